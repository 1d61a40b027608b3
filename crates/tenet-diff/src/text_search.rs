//! Text search dictionaries and configurations.
//!
//! Created and changed right after the collations, before any table: a column default, a
//! generated column or an index may name one (`to_tsvector('app.english_simple', ...)`).
//! Dropped after every table, before schemas go. A dictionary's options and a
//! configuration's mappings change in place; a new template or parser means drop and create.

use tenet_catalog::model::*;
use tenet_catalog::quote::ident;
use tenet_catalog::render;

use crate::diff::comment_sql;
use crate::plan::Step;

fn dictionary_name(d: &TextSearchDictionary) -> QualifiedName {
    QualifiedName::new(&d.schema, &d.name)
}

fn configuration_name(c: &TextSearchConfiguration) -> QualifiedName {
    QualifiedName::new(&c.schema, &c.name)
}

fn dictionary_key(d: &TextSearchDictionary) -> String {
    format!("text search dictionary {}", dictionary_name(d))
}

fn configuration_key(c: &TextSearchConfiguration) -> String {
    format!("text search configuration {}", configuration_name(c))
}

/// The names of the options in `name = value, ...` (values are quoted literals or words).
fn option_names(options: &Option<String>) -> Vec<String> {
    let Some(options) = options else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let (mut quoted, mut at_name, mut name) = (false, true, String::new());
    for ch in options.chars() {
        match ch {
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                names.push(std::mem::take(&mut name).trim().to_string());
                at_name = true;
            }
            '=' if !quoted => at_name = false,
            _ if at_name => name.push(ch),
            _ => {}
        }
    }
    names.push(name.trim().to_string());
    names.retain(|n| !n.is_empty());
    names
}

/// Comment and owner changes; a new object (`old` none) gets an owner only when it is not
/// the usual one.
fn comment_and_owner(
    target: &str,
    old: Option<(&Option<String>, &str)>,
    comment: &Option<String>,
    owner: &str,
    usual_owner: Option<&str>,
) -> String {
    let mut sql = String::new();
    if old.and_then(|o| o.0.as_ref()) != comment.as_ref() {
        sql.push_str(&comment_sql(target, comment));
    }
    let owner_changed = match old {
        Some((_, o)) => o != owner,
        None => usual_owner.is_some_and(|u| u != owner),
    };
    if owner_changed {
        sql.push_str(&format!("ALTER {target} OWNER TO {};\n", ident(owner)));
    }
    sql
}

fn step(key: String, sql: String) -> Option<Step> {
    let sql = sql.trim_end();
    (!sql.is_empty()).then(|| Step::new(key, sql.to_string()))
}

/// Creates and changes, dictionaries first (configurations name them).
pub(crate) fn early_steps(from: &Catalog, to: &Catalog, usual_owner: Option<&str>) -> Vec<Step> {
    let mut steps = Vec::new();
    // Mappings that name a dictionary about to be dropped and created let go of it first;
    // they count as absent below, so they come back.
    let recreated = recreated_dictionaries(from, to);
    let uses_recreated =
        |m: &TextSearchMapping| m.dictionaries.iter().any(|d| recreated.contains(d));
    for c in &from.text_search_configurations {
        let target = format!("TEXT SEARCH CONFIGURATION {}", configuration_name(c));
        let sql: Vec<String> = c
            .mappings
            .iter()
            .filter(|m| uses_recreated(m))
            .map(|m| format!("ALTER {target} DROP MAPPING FOR {};", ident(&m.token)))
            .collect();
        if !sql.is_empty() {
            steps.push(Step::new(configuration_key(c), sql.join("\n")));
        }
    }
    for d in &to.text_search_dictionaries {
        let name = dictionary_name(d);
        let target = format!("TEXT SEARCH DICTIONARY {name}");
        let old = from
            .text_search_dictionaries
            .iter()
            .find(|o| dictionary_name(o) == name);
        let mut sql = String::new();
        let kept = match old {
            Some(o) if o.template == d.template => {
                if o.options != d.options {
                    // Options not named keep their value; a name alone removes one.
                    let new_names = option_names(&d.options);
                    let mut options: Vec<String> = d.options.iter().cloned().collect();
                    options.extend(
                        option_names(&o.options)
                            .into_iter()
                            .filter(|n| !new_names.contains(n)),
                    );
                    sql.push_str(&format!("ALTER {target} ({});\n", options.join(", ")));
                }
                Some(o)
            }
            Some(_) => {
                sql.push_str(&format!("DROP {target};\n"));
                None
            }
            None => None,
        };
        if kept.is_none() {
            sql.push_str(&render::create_text_search_dictionary(d));
            sql.push('\n');
        }
        let old_meta = kept.map(|o| (&o.comment, o.owner.as_str()));
        sql.push_str(&comment_and_owner(
            &target,
            old_meta,
            &d.comment,
            &d.owner,
            usual_owner,
        ));
        steps.extend(step(dictionary_key(d), sql));
    }
    for c in &to.text_search_configurations {
        let name = configuration_name(c);
        let target = format!("TEXT SEARCH CONFIGURATION {name}");
        let old = from
            .text_search_configurations
            .iter()
            .find(|o| configuration_name(o) == name);
        let mut sql = String::new();
        let kept = match old {
            Some(o) if o.parser == c.parser => {
                let still: Vec<&TextSearchMapping> =
                    o.mappings.iter().filter(|m| !uses_recreated(m)).collect();
                for m in &still {
                    if !c.mappings.iter().any(|n| n.token == m.token) {
                        let token = ident(&m.token);
                        sql.push_str(&format!("ALTER {target} DROP MAPPING FOR {token};\n"));
                    }
                }
                for m in &c.mappings {
                    match still.iter().find(|x| x.token == m.token) {
                        None => sql.push_str(&render::text_search_mapping(c, "ADD", m)),
                        Some(&x) if x != m => {
                            sql.push_str(&render::text_search_mapping(c, "ALTER", m))
                        }
                        Some(_) => continue,
                    }
                    sql.push('\n');
                }
                Some(o)
            }
            Some(_) => {
                sql.push_str(&format!("DROP {target};\n"));
                None
            }
            None => None,
        };
        if kept.is_none() {
            sql.push_str(&render::create_text_search_configuration(c));
            sql.push('\n');
        }
        let old_meta = kept.map(|o| (&o.comment, o.owner.as_str()));
        sql.push_str(&comment_and_owner(
            &target,
            old_meta,
            &c.comment,
            &c.owner,
            usual_owner,
        ));
        steps.extend(step(configuration_key(c), sql));
    }
    steps
}

/// Dictionaries of both sides whose template changes, by their SQL names.
fn recreated_dictionaries(from: &Catalog, to: &Catalog) -> Vec<String> {
    from.text_search_dictionaries
        .iter()
        .filter(|o| {
            to.text_search_dictionaries
                .iter()
                .any(|d| dictionary_name(d) == dictionary_name(o) && d.template != o.template)
        })
        .map(|o| dictionary_name(o).to_string())
        .collect()
}

/// Drops of what is gone, once no table uses it: configurations, then dictionaries.
pub(crate) fn drops(from: &Catalog, to: &Catalog) -> Vec<Step> {
    let configurations = from.text_search_configurations.iter().filter(|c| {
        !to.text_search_configurations
            .iter()
            .any(|n| configuration_name(n) == configuration_name(c))
    });
    let dictionaries = from.text_search_dictionaries.iter().filter(|d| {
        !to.text_search_dictionaries
            .iter()
            .any(|n| dictionary_name(n) == dictionary_name(d))
    });
    let configurations = configurations.map(|c| {
        let sql = format!("DROP TEXT SEARCH CONFIGURATION {};", configuration_name(c));
        Step::new(configuration_key(c), sql)
    });
    let dictionaries = dictionaries.map(|d| {
        let sql = format!("DROP TEXT SEARCH DICTIONARY {};", dictionary_name(d));
        Step::new(dictionary_key(d), sql)
    });
    configurations.chain(dictionaries).collect()
}

#[cfg(test)]
mod tests {
    use super::option_names;

    #[test]
    fn option_names_skip_quoted_commas_and_equals() {
        let options = Some("language = 'english', stopwords = 'a,b=c', Accent = true".into());
        assert_eq!(option_names(&options), ["language", "stopwords", "Accent"]);
        assert!(option_names(&None).is_empty());
    }
}
