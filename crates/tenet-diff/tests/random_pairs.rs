//! The plan property on random schema pairs: a seeded generator writes a schema, mutates a copy
//! of it, and both directions of the pair must plan correctly.
//!
//! `TENET_PROPERTY_CASES` sets how many pairs (default 12, a short run for CI) and
//! `TENET_PROPERTY_SEED` the first seed; a failure prints the seed that reproduces it.

mod common;

use std::fmt::Write;

/// A small deterministic generator (SplitMix64): same seed, same schemas, on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Clone, PartialEq)]
enum Ty {
    Int,
    BigInt,
    Text,
    Varchar(u32),
    Numeric,
    Bool,
    Timestamptz,
    Uuid,
    Jsonb,
    Enum(usize),
    IntArray,
}

impl Ty {
    fn sql(&self, schema: &Schema) -> String {
        match self {
            Ty::Int => "integer".into(),
            Ty::BigInt => "bigint".into(),
            Ty::Text => "text".into(),
            Ty::Varchar(n) => format!("varchar({n})"),
            Ty::Numeric => "numeric".into(),
            Ty::Bool => "boolean".into(),
            Ty::Timestamptz => "timestamptz".into(),
            Ty::Uuid => "uuid".into(),
            Ty::Jsonb => "jsonb".into(),
            Ty::Enum(i) => schema.enums[*i].name.clone(),
            Ty::IntArray => "integer[]".into(),
        }
    }
    fn default(&self, schema: &Schema) -> String {
        match self {
            Ty::Int | Ty::BigInt | Ty::Numeric => "0".into(),
            Ty::Text | Ty::Varchar(_) => "'x'".into(),
            Ty::Bool => "false".into(),
            Ty::Timestamptz => "now()".into(),
            Ty::Uuid => "gen_random_uuid()".into(),
            Ty::Jsonb => "'{}'".into(),
            Ty::Enum(i) => format!("'{}'", schema.enums[*i].labels[0]),
            Ty::IntArray => "'{}'".into(),
        }
    }
    fn random(rng: &mut Rng, enums: usize) -> Ty {
        match rng.below(if enums > 0 { 11 } else { 10 }) {
            0 => Ty::Int,
            1 => Ty::BigInt,
            2 => Ty::Text,
            3 => Ty::Varchar(10 + rng.below(5) as u32 * 10),
            4 => Ty::Numeric,
            5 => Ty::Bool,
            6 => Ty::Timestamptz,
            7 => Ty::Uuid,
            8 => Ty::Jsonb,
            9 => Ty::IntArray,
            _ => Ty::Enum(rng.below(enums)),
        }
    }
}

#[derive(Clone)]
struct Enum {
    name: String,
    labels: Vec<String>,
}

#[derive(Clone)]
struct Column {
    name: String,
    ty: Ty,
    not_null: bool,
    default: bool,
}

#[derive(Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    /// Indexes: (name, column names, unique).
    indexes: Vec<(String, Vec<String>, bool)>,
    /// Foreign keys: (name, column, referenced table); the column is bigint.
    foreign_keys: Vec<(String, String, String)>,
    /// Checks: (name, column) on a numeric-ish column: `col >= 0` / `length(col) > 0`.
    checks: Vec<(String, String)>,
    rls: bool,
    comment: Option<String>,
}

#[derive(Clone)]
struct View {
    name: String,
    table: String,
    columns: Vec<String>,
}

#[derive(Clone, Default)]
struct Schema {
    enums: Vec<Enum>,
    tables: Vec<Table>,
    views: Vec<View>,
    counter: usize,
}

impl Schema {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn generate(rng: &mut Rng) -> Schema {
        let mut s = Schema::default();
        for _ in 0..rng.below(3) {
            let name = s.fresh("e");
            let labels = (0..2 + rng.below(3)).map(|i| format!("l{i}")).collect();
            s.enums.push(Enum { name, labels });
        }
        for _ in 0..2 + rng.below(4) {
            s.add_table(rng);
        }
        for _ in 0..rng.below(3) {
            s.add_view(rng);
        }
        s
    }

    fn add_table(&mut self, rng: &mut Rng) {
        let name = self.fresh("t");
        let mut table = Table {
            name,
            columns: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            rls: rng.chance(30),
            comment: rng.chance(30).then(|| "a table".to_string()),
        };
        for _ in 0..1 + rng.below(5) {
            let column = self.random_column(rng);
            table.columns.push(column);
        }
        if !self.tables.is_empty() && rng.chance(50) {
            let target = self.tables[rng.below(self.tables.len())].name.clone();
            let column = self.fresh("ref");
            table.columns.push(Column {
                name: column.clone(),
                ty: Ty::BigInt,
                not_null: false,
                default: false,
            });
            table.foreign_keys.push((self.fresh("fk"), column, target));
        }
        self.tables.push(table);
        let i = self.tables.len() - 1;
        if rng.chance(50) {
            self.add_index(rng, i);
        }
    }

    fn random_column(&mut self, rng: &mut Rng) -> Column {
        Column {
            name: self.fresh("c"),
            ty: Ty::random(rng, self.enums.len()),
            not_null: rng.chance(30),
            default: rng.chance(40),
        }
    }

    fn add_index(&mut self, rng: &mut Rng, table: usize) {
        let candidates: Vec<String> = self.tables[table]
            .columns
            .iter()
            .filter(|c| !matches!(c.ty, Ty::Jsonb | Ty::IntArray))
            .map(|c| c.name.clone())
            .collect();
        if candidates.is_empty() {
            return;
        }
        let column = candidates[rng.below(candidates.len())].clone();
        let name = self.fresh("ix");
        self.tables[table]
            .indexes
            .push((name, vec![column], rng.chance(20)));
    }

    fn add_view(&mut self, rng: &mut Rng) {
        if self.tables.is_empty() {
            return;
        }
        let t = &self.tables[rng.below(self.tables.len())];
        let (table, columns) = (
            t.name.clone(),
            t.columns.iter().take(2).map(|c| c.name.clone()).collect(),
        );
        let name = self.fresh("v");
        self.views.push(View {
            name,
            table,
            columns,
        });
    }

    /// Drop everything that refers to a column or table about to go.
    fn forget_column(&mut self, table: &str, column: &str) {
        for t in self.tables.iter_mut().filter(|t| t.name == table) {
            t.indexes
                .retain(|(_, cols, _)| !cols.iter().any(|c| c == column));
            t.foreign_keys.retain(|(_, c, _)| c != column);
            t.checks.retain(|(_, c)| c != column);
        }
        self.views
            .retain(|v| !(v.table == table && v.columns.iter().any(|c| c == column)));
    }

    fn mutate(&mut self, rng: &mut Rng) {
        if self.tables.is_empty() {
            self.add_table(rng);
            return;
        }
        let t = rng.below(self.tables.len());
        match rng.below(16) {
            0 => self.add_table(rng),
            1 => {
                let name = self.tables[t].name.clone();
                self.tables.remove(t);
                self.views.retain(|v| v.table != name);
                for other in &mut self.tables {
                    other.foreign_keys.retain(|(_, _, target)| *target != name);
                }
            }
            2 => {
                let column = self.random_column(rng);
                self.tables[t].columns.push(column);
            }
            3 if self.tables[t].columns.len() > 1 => {
                let c = rng.below(self.tables[t].columns.len());
                let name = self.tables[t].columns.remove(c).name;
                let table = self.tables[t].name.clone();
                self.forget_column(&table, &name);
            }
            4 => {
                // A type change PostgreSQL can cast; foreign key columns and columns under a
                // numeric check (`col >= 0`) keep their type.
                let c = rng.below(self.tables[t].columns.len());
                let table = &mut self.tables[t];
                let column = &mut table.columns[c];
                if column.name.starts_with("ref")
                    || table.checks.iter().any(|(_, col)| *col == column.name)
                {
                    return;
                }
                column.ty = match &column.ty {
                    Ty::Int => Ty::BigInt,
                    Ty::BigInt => Ty::Numeric,
                    Ty::Varchar(n) => Ty::Varchar(n + 10),
                    Ty::Text => Ty::Varchar(200),
                    Ty::Numeric => Ty::Text,
                    other => other.clone(),
                };
            }
            5 => {
                let c = rng.below(self.tables[t].columns.len());
                let column = &mut self.tables[t].columns[c];
                column.not_null = !column.not_null;
            }
            6 => {
                let c = rng.below(self.tables[t].columns.len());
                let column = &mut self.tables[t].columns[c];
                column.default = !column.default;
            }
            7 => self.add_index(rng, t),
            8 if !self.tables[t].indexes.is_empty() => {
                let i = rng.below(self.tables[t].indexes.len());
                self.tables[t].indexes.remove(i);
            }
            9 => {
                let target = self.tables[rng.below(self.tables.len())].name.clone();
                let column = self.fresh("ref");
                let fk = self.fresh("fk");
                let table = &mut self.tables[t];
                table.columns.push(Column {
                    name: column.clone(),
                    ty: Ty::BigInt,
                    not_null: false,
                    default: false,
                });
                table.foreign_keys.push((fk, column, target));
            }
            10 if !self.tables[t].foreign_keys.is_empty() => {
                self.tables[t].foreign_keys.pop();
            }
            11 => {
                let numeric: Vec<String> = self.tables[t]
                    .columns
                    .iter()
                    .filter(|c| matches!(c.ty, Ty::Int | Ty::BigInt | Ty::Numeric))
                    .map(|c| c.name.clone())
                    .collect();
                if let Some(column) = numeric.first() {
                    let name = self.fresh("ck");
                    self.tables[t].checks.push((name, column.clone()));
                }
            }
            12 => self.tables[t].rls = !self.tables[t].rls,
            13 => {
                let table = &mut self.tables[t];
                table.comment = if table.comment.is_some() {
                    None
                } else {
                    Some("changed".into())
                };
            }
            14 => self.add_view(rng),
            15 if !self.enums.is_empty() => {
                let e = rng.below(self.enums.len());
                let labels = &mut self.enums[e].labels;
                let at = rng.below(labels.len() + 1);
                let label = format!("n{}", self.counter);
                self.counter += 1;
                labels.insert(at, label);
            }
            _ => {
                if !self.views.is_empty() {
                    let v = rng.below(self.views.len());
                    self.views.remove(v);
                }
            }
        }
    }

    fn sql(&self) -> String {
        let mut out = String::new();
        for e in &self.enums {
            let labels: Vec<String> = e.labels.iter().map(|l| format!("'{l}'")).collect();
            writeln!(
                out,
                "create type {} as enum ({});",
                e.name,
                labels.join(", ")
            )
            .unwrap();
        }
        for t in &self.tables {
            let mut items =
                vec!["id bigint generated by default as identity primary key".to_string()];
            for c in &t.columns {
                let mut column = format!("{} {}", c.name, c.ty.sql(self));
                if c.default {
                    write!(column, " default {}", c.ty.default(self)).unwrap();
                }
                if c.not_null {
                    column.push_str(" not null");
                }
                items.push(column);
            }
            for (name, column) in &t.checks {
                items.push(format!("constraint {name} check ({column} >= 0)"));
            }
            writeln!(out, "create table {} ({});", t.name, items.join(", ")).unwrap();
            for (name, columns, unique) in &t.indexes {
                let unique = if *unique { "unique " } else { "" };
                writeln!(
                    out,
                    "create {unique}index {name} on {} ({});",
                    t.name,
                    columns.join(", ")
                )
                .unwrap();
            }
            if t.rls {
                writeln!(out, "alter table {} enable row level security;", t.name).unwrap();
                writeln!(out, "create policy own on {} using (id > 0);", t.name).unwrap();
            }
            if let Some(comment) = &t.comment {
                writeln!(out, "comment on table {} is '{comment}';", t.name).unwrap();
            }
        }
        for t in &self.tables {
            for (name, column, target) in &t.foreign_keys {
                if self.tables.iter().any(|x| &x.name == target) {
                    writeln!(out, "alter table {} add constraint {name} foreign key ({column}) references {target} (id);", t.name).unwrap();
                }
            }
        }
        for v in &self.views {
            let columns = if v.columns.is_empty() {
                "id".to_string()
            } else {
                format!("id, {}", v.columns.join(", "))
            };
            writeln!(
                out,
                "create view {} as select {columns} from {};",
                v.name, v.table
            )
            .unwrap();
        }
        out
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_schema_pairs_plan_correctly() {
    let cases = env_number("TENET_PROPERTY_CASES", 12);
    let first = env_number("TENET_PROPERTY_SEED", 1);
    let seeds: Vec<u64> = (first..first + cases).collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = seeds
            .chunks(seeds.len().div_ceil(4).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for &seed in chunk {
                        let mut rng = Rng(seed);
                        let a = Schema::generate(&mut rng);
                        let mut b = a.clone();
                        for _ in 0..1 + rng.below(6) {
                            b.mutate(&mut rng);
                        }
                        let (a, b) = (a.sql(), b.sql());
                        for (direction, from, to) in [("a->b", &a, &b), ("b->a", &b, &a)] {
                            if let Err(e) = common::check_direction(&format!("seed {seed} {direction}"), from, to) {
                                failures.push(format!(
                                    "seed {seed} {direction}: {e}\n--- from ---\n{from}\n--- to ---\n{to}"
                                ));
                            }
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    eprintln!(
        "random pairs: {} of {} directions pass (seeds {first}..{})",
        2 * cases as usize - failures.len(),
        2 * cases,
        first + cases
    );
    for f in &failures {
        eprintln!("FAILED {f}\n");
    }
    assert!(failures.is_empty(), "{} directions fail", failures.len());
}
