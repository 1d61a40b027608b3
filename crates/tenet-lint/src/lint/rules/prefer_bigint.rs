//! `prefer-bigint`: a primary key or identity column of type integer or smallint. Keys added
//! later with `ALTER TABLE ... ADD PRIMARY KEY` (pg_dump's style) count; foreign key columns do
//! not (they must match the key they reference, where the rule fires).

use pg_query::protobuf;

use crate::lint::names::{quote, string_value, type_name, TableRef};
use crate::lint::Ctx;

fn small(type_name: &str) -> bool {
    matches!(type_name, "int4" | "int2" | "integer" | "smallint" | "int")
}

/// A key column's type, judged at the end of the file (a foreign key may still cover it).
pub(in crate::lint) fn candidate(
    ctx: &mut Ctx,
    ty: &protobuf::TypeName,
    span: (usize, usize),
    t: &TableRef,
    column: &str,
) {
    if small(type_name(ty)) {
        ctx.state
            .small_keys
            .push((ctx.stmt, span, t.clone(), column.to_string()));
    }
}

/// `ALTER TABLE ... ADD PRIMARY KEY (cols)`: the columns' types come from the CREATE TABLE in
/// this file, else from the facts.
pub(in crate::lint) fn primary_key(ctx: &mut Ctx, t: &TableRef, c: &protobuf::Constraint) {
    for column in c.keys.iter().filter_map(string_value) {
        let declared = ctx
            .state
            .columns
            .iter()
            .find(|c| c.table.matches(t) && c.column == column)
            .map(|c| (small(&c.type_name), c.span, c.stmt));
        match declared {
            Some((true, span, stmt)) => {
                ctx.state
                    .small_keys
                    .push((stmt, span, t.clone(), column.to_string()))
            }
            Some((false, ..)) => {}
            None => {
                let known = ctx
                    .facts
                    .and_then(|f| f.table(t.schema.as_deref(), &t.name))
                    .and_then(|f| f.columns.get(column))
                    .is_some_and(|ty| ty == "integer" || ty == "smallint");
                if known {
                    let span = ctx.to_line_end(ctx.at(c.location));
                    ctx.state
                        .small_keys
                        .push((ctx.stmt, span, t.clone(), column.to_string()));
                }
            }
        }
    }
}

pub(in crate::lint) fn at_end(ctx: &mut Ctx) {
    let keys = std::mem::take(&mut ctx.state.small_keys);
    let mut seen: Vec<(TableRef, String)> = Vec::new();
    for (stmt, span, t, column) in keys {
        let foreign = ctx
            .state
            .foreign_columns
            .iter()
            .any(|(ft, fc)| ft.matches(&t) && *fc == column);
        if foreign || seen.iter().any(|(st, sc)| st.matches(&t) && *sc == column) {
            continue;
        }
        seen.push((t.clone(), column.clone()));
        ctx.stmt = stmt;
        let name = format!("{}.{}", ctx.qualified(&t), quote(&column));
        let written = ctx.text(span).to_string();
        ctx.report(
            "prefer-bigint",
            span,
            Some(format!("column {name}")),
            format!("key column {name} is {written}"),
            Some(format!("Declare {} bigint.", quote(&column))),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fails() {
        fires(
            "CREATE TABLE t (id int PRIMARY KEY);",
            "prefer-bigint",
            1,
            20,
        );
        fires(
            "CREATE TABLE t (id integer, PRIMARY KEY (id));",
            "prefer-bigint",
            1,
            20,
        );
        fires(
            "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY);",
            "prefer-bigint",
            1,
            20,
        );
        // pg_dump's style: the key is added after the table.
        let sql = "CREATE TABLE public.film (\n    film_id integer NOT NULL,\n    title text\n);\nALTER TABLE ONLY public.film\n    ADD CONSTRAINT film_pkey PRIMARY KEY (film_id);\n";
        let f = fires(sql, "prefer-bigint", 2, 13);
        assert_eq!(underlined(sql, &f), "integer");
    }

    #[test]
    fn passes() {
        silent(
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n int);",
            "prefer-bigint",
        );
        // Foreign key columns follow the key they reference.
        silent(
            "CREATE TABLE film_actor (actor_id integer REFERENCES actor, film_id integer, PRIMARY KEY (actor_id, film_id), FOREIGN KEY (film_id) REFERENCES film);",
            "prefer-bigint",
        );
        silent(
            "CREATE TABLE public.film_actor (actor_id smallint NOT NULL, film_id smallint NOT NULL);\nALTER TABLE ONLY public.film_actor ADD CONSTRAINT film_actor_pkey PRIMARY KEY (actor_id, film_id);\nALTER TABLE ONLY public.film_actor ADD CONSTRAINT a_fk FOREIGN KEY (actor_id) REFERENCES public.actor(actor_id);\nALTER TABLE ONLY public.film_actor ADD CONSTRAINT f_fk FOREIGN KEY (film_id) REFERENCES public.film(film_id);\n",
            "prefer-bigint",
        );
    }
}
