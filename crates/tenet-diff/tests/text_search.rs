//! Text search dictionaries and configurations: apply `from`, apply the plan, and the catalog
//! and the `pg_dump -s` must be the target's, in both directions.

mod common;

fn pair(name: &str, from: &str, to: &str) {
    for (direction, a, b) in [("up", from, to), ("down", to, from)] {
        match common::check_direction_and_dump(&format!("{name} {direction}"), a, b) {
            Err(e) => panic!("{name} {direction}: {e}"),
            Ok(outcome) => assert!(
                !outcome.column_order_differs,
                "{name} {direction}: column order differs\n{}",
                outcome.plan.to_sql()
            ),
        }
    }
}

const TEXT_SEARCH: &str = include_str!("../../tenet-catalog/tests/schemas/text_search.sql");

#[test]
fn text_search_created_and_dropped() {
    pair("text search", "", TEXT_SEARCH);
}

#[test]
fn text_search_changes_in_place_and_goes_after_its_tables() {
    // `d_opts` and `d_more` change options (set, removed, added); `d_template` changes
    // template under a mapping of `c` that stays; `c` changes mappings and comment; `c_gone`
    // is used by a table that goes.
    pair(
        "text search changes",
        "create text search dictionary d_opts (template = simple, stopwords = english);
         create text search dictionary d_more (template = simple);
         create text search dictionary d_template (template = simple);
         create text search dictionary d_gone (template = simple);
         create text search configuration c (parser = default);
         alter text search configuration c add mapping for asciiword with d_opts, simple;
         alter text search configuration c add mapping for word with d_gone;
         alter text search configuration c add mapping for email with simple;
         alter text search configuration c add mapping for hword with d_template;
         create text search configuration c_gone (copy = simple);
         create table docs (
             body text,
             search tsvector generated always as (to_tsvector('public.c_gone', body)) stored
         );",
        "create text search dictionary d_opts (template = simple, accept = false);
         create text search dictionary d_more (template = simple, stopwords = english, accept = true);
         create text search dictionary d_template (template = snowball, language = english);
         create text search configuration c (parser = default);
         alter text search configuration c add mapping for asciiword with d_opts;
         alter text search configuration c add mapping for word with d_more, simple;
         alter text search configuration c add mapping for url with simple;
         alter text search configuration c add mapping for hword with d_template;
         comment on text search configuration c is 'changed';
         create text search configuration c_new (copy = english);
         create table docs2 (
             body text,
             config regconfig default 'public.c_new',
             search tsvector generated always as (to_tsvector('public.c_new', body)) stored
         );",
    );
}
