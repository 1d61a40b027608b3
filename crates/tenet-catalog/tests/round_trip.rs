//! Round-trip fidelity: inspect -> render SQL -> load into a fresh database -> inspect again must
//! give an identical catalog, for hand-written schemas covering every object kind and for every
//! loadable schema of the real-world corpus.

use std::path::{Path, PathBuf};

use tenet_catalog::{inspect, render, source, Catalog};
use tenet_pg::ScratchDb;
use tenet_testkit::test_db;

/// Apply `files` to a fresh database and return it with its catalog.
fn load(files: &[PathBuf]) -> Result<(ScratchDb, Catalog), tenet_catalog::Error> {
    let db = test_db();
    let mut client = db.connect().unwrap();
    source::apply_files_trusted(&mut client, files)?;
    let catalog = inspect(&mut client)?;
    Ok((db, catalog))
}

/// The round trip for one schema; panics with the first difference.
fn assert_round_trip(name: &str, original: &Catalog) {
    let sql = render::to_sql(original);
    let db = test_db();
    let mut client = db.connect().unwrap();
    if let Err(e) = source::apply_script_trusted(&mut client, Path::new(name), &sql) {
        panic!("{name}: rendered SQL does not load: {e}\n--- rendered ---\n{sql}");
    }
    let copy = inspect(&mut client).expect("inspect the copy");
    assert_same(name, original, &copy);
}

fn assert_same(name: &str, expected: &Catalog, actual: &Catalog) {
    if expected == actual {
        return;
    }
    let expected = serde_json::to_string_pretty(expected).unwrap();
    let actual = serde_json::to_string_pretty(actual).unwrap();
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(8);
    panic!(
        "{name}: catalogs differ at JSON line {}\n--- expected ---\n{}\n--- actual ---\n{}",
        first + 1,
        e[from..(first + 8).min(e.len())].join("\n"),
        a[from..(first + 8).min(a.len())].join("\n"),
    );
}

fn schema_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name)
}

fn hand_written(name: &str) {
    let (db, catalog) = load(&[schema_file(name)]).unwrap_or_else(|e| panic!("{name}: {e}"));
    // Inspection is deterministic: the same database reads back the same.
    let again = inspect(&mut db.connect().unwrap()).unwrap();
    assert_same(name, &catalog, &again);
    assert_round_trip(name, &catalog);
}

#[test]
fn every_object_kind_round_trips() {
    hand_written("every_kind.sql");
}

/// Two connections on one exported snapshot, the second opened while the first already
/// queries, read exactly what one connection reads.
#[test]
fn inspecting_on_two_connections_reads_what_one_reads() {
    let (db, catalog) = load(&[schema_file("every_kind.sql")]).unwrap();
    let mut client = db.connect().unwrap();
    let parallel = tenet_catalog::inspect_parallel(&mut client, || Ok(db.connect()?)).unwrap();
    assert_same("every_kind.sql on two connections", &catalog, &parallel);
    // A second connection that cannot be opened fails the inspection with its error.
    let refused = tenet_catalog::inspect_parallel(&mut client, || {
        Err(tenet_catalog::Error::Input("no second connection".into()))
    });
    assert!(matches!(refused, Err(tenet_catalog::Error::Input(m)) if m == "no second connection"));
}

#[test]
fn publications_and_replica_identities_round_trip() {
    hand_written("publications.sql");
}

#[test]
fn publications_and_replica_identities_are_in_the_catalog() {
    use tenet_catalog::model::ReplicaIdentity;
    let (_db, c) = load(&[schema_file("publications.sql")]).unwrap();
    let identity = |name: &str| {
        c.tables
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .replica_identity
            .clone()
    };
    assert_eq!(
        identity("messages"),
        Some(ReplicaIdentity::Index("messages_code_key".into()))
    );
    assert_eq!(identity("rooms"), Some(ReplicaIdentity::Full));
    assert_eq!(identity("logs"), Some(ReplicaIdentity::Nothing));
    assert_eq!(identity("events"), None);
    let names: Vec<&str> = c.publications.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["chat", "everything", "feeds", "supabase_realtime"]);
    let chat = &c.publications[0];
    assert_eq!(chat.publish, ["insert", "update"]);
    assert!(chat.via_root && !chat.all_tables);
    let messages = chat
        .tables
        .iter()
        .find(|t| t.table.name == "messages")
        .unwrap();
    assert_eq!(messages.columns, ["id", "room", "body"]);
    assert_eq!(
        messages.row_filter.as_deref(),
        Some("(room <> 'private'::text)")
    );
    assert!(c.publications[1].all_tables);
    assert_eq!(c.publications[2].schemas, ["feed"]);
    assert_eq!(c.publications[3].tables.len(), 1);
}

#[test]
fn default_privileges_round_trip() {
    hand_written("default_privileges.sql");
}

#[test]
fn default_privileges_are_in_the_catalog() {
    let (_db, c) = load(&[schema_file("default_privileges.sql")]).unwrap();
    let entries: Vec<String> = c
        .default_privileges
        .iter()
        .map(|d| {
            let grants: Vec<String> = d
                .grants
                .iter()
                .map(|g| {
                    format!(
                        "{} {}{}",
                        g.grantee,
                        g.privilege,
                        if g.grantable { "*" } else { "" }
                    )
                })
                .collect();
            format!(
                "{} {} {}: {}",
                d.role,
                d.schema.as_deref().unwrap_or("-"),
                d.objects,
                grants.join(", ")
            )
        })
        .collect();
    let me = &c.schemas.iter().find(|s| s.name == "app").unwrap().owner;
    let mine = |rest: &str| format!("{me} {rest}").replace("OWNER", me);
    assert_eq!(
        entries[..5],
        [
            mine("- functions: OWNER EXECUTE, tenet_rt_reader EXECUTE"),
            mine("- schemas: OWNER CREATE, OWNER USAGE, tenet_rt_reader USAGE"),
            mine("- types: OWNER USAGE"),
            mine("app sequences: tenet_rt_writer USAGE"),
            mine("app tables: tenet_rt_reader SELECT, tenet_rt_writer INSERT*, tenet_rt_writer UPDATE*"),
        ]
    );
    // The entry of every schema lists the owner's privileges too (which vary by version).
    assert!(
        entries[5]
            .starts_with("tenet_rt_writer - tables: tenet_rt_reader SELECT, tenet_rt_writer "),
        "{}",
        entries[5]
    );
    assert_eq!(entries.len(), 6);
}

#[test]
fn rules_and_triggers_on_views_round_trip() {
    hand_written("rules.sql");
}

#[test]
fn rules_and_triggers_on_views_are_in_the_catalog() {
    let (_db, c) = load(&[schema_file("rules.sql")]).unwrap();
    let view = c.views.iter().find(|v| v.name == "live_items").unwrap();
    let names = |rules: &[tenet_catalog::model::Rule]| -> Vec<String> {
        rules
            .iter()
            .map(|r| format!("{} {}", r.name, r.enabled))
            .collect()
    };
    assert_eq!(names(&view.rules), ["live_items_delete origin"]);
    assert_eq!(view.triggers.len(), 1);
    assert!(view.triggers[0].definition.contains("INSTEAD OF INSERT"));
    let items = c.tables.iter().find(|t| t.name == "items").unwrap();
    assert_eq!(names(&items.rules), ["items_log origin"]);
    assert_eq!(items.rules[0].comment.as_deref(), Some("audit"));
    let log = c.tables.iter().find(|t| t.name == "item_log").unwrap();
    assert_eq!(names(&log.rules), ["items_no_truncate_log disabled"]);
    // A rule's references are not its table's: items does not need item_log first.
    assert!(items.depends_on.is_empty(), "{:?}", items.depends_on);
}

#[test]
fn range_types_round_trip() {
    hand_written("ranges.sql");
}

#[test]
fn range_types_are_in_the_catalog() {
    use tenet_catalog::model::TypeKind;
    let (_db, c) = load(&[schema_file("ranges.sql")]).unwrap();
    let range = |name: &str| {
        let t = c.types.iter().find(|t| t.name == name).unwrap();
        match &t.kind {
            TypeKind::Range { .. } => (t.kind.clone(), t.depends_on.clone()),
            other => panic!("{name} is {other:?}"),
        }
    };
    let (time, depends) = range("timerange");
    let TypeKind::Range {
        subtype,
        subtype_diff,
        multirange,
        ..
    } = time
    else {
        unreachable!()
    };
    assert_eq!(subtype, "time without time zone");
    assert_eq!(subtype_diff.as_deref(), Some("app.time_diff"));
    assert_eq!(multirange, "app.timemultirange");
    assert_eq!(
        depends,
        ["function app.time_diff(a time without time zone, b time without time zone)"]
    );
    let (text, _) = range("textrange");
    let TypeKind::Range {
        collation,
        multirange,
        subtype_opclass,
        ..
    } = text
    else {
        unreachable!()
    };
    assert_eq!(collation.as_deref(), Some("pg_catalog.\"C\""));
    assert_eq!(multirange, "app.textranges");
    assert_eq!(
        subtype_opclass, None,
        "the default operator class is not named"
    );
    let (_, depends) = range("statusrange");
    assert_eq!(depends, ["type app.status"]);
    assert_eq!(c.types.len(), 5, "multirange types come with their range");
}

#[test]
fn aggregates_round_trip() {
    hand_written("aggregates.sql");
}

#[test]
fn aggregates_are_in_the_catalog() {
    let (_db, c) = load(&[schema_file("aggregates.sql")]).unwrap();
    let aggregates: Vec<String> = c
        .functions
        .iter()
        .filter(|f| f.kind == "aggregate")
        .map(|f| f.signature())
        .collect();
    assert_eq!(
        aggregates,
        [
            "app.biggest(integer)",
            "app.group_concat(text)",
            "app.how_many(*)",
            "app.pct(double precision ORDER BY anyelement)",
            "app.total(integer)",
        ]
    );
    let total = c.functions.iter().find(|f| f.name == "total").unwrap();
    for option in [
        "SFUNC = app.sum_step",
        "INITCOND = '0'",
        "COMBINEFUNC = app.sum_combine",
        "PARALLEL = SAFE",
        "MINVFUNC = app.sum_inverse",
    ] {
        assert!(
            total.definition.contains(option),
            "{option}: {}",
            total.definition
        );
    }
    assert!(total
        .depends_on
        .contains(&"function app.sum_combine(a bigint, b bigint)".to_string()));
    assert_eq!(
        total.grants.as_deref().map(|g| g.len()),
        Some(1),
        "only the owner's EXECUTE"
    );
    let view = c.views.iter().find(|v| v.name == "summary").unwrap();
    assert!(view
        .depends_on
        .contains(&"function app.group_concat(text)".to_string()));
}

#[test]
fn event_triggers_round_trip() {
    hand_written("event_triggers.sql");
}

#[test]
fn event_triggers_are_in_the_catalog() {
    let (_db, c) = load(&[schema_file("event_triggers.sql")]).unwrap();
    let triggers: Vec<String> = c
        .event_triggers
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {:?} {}",
                e.name, e.event, e.function, e.tags, e.enabled
            )
        })
        .collect();
    assert_eq!(
        triggers,
        [
            "log_ddl ddl_command_end audit.log_ddl [] origin",
            "no_drops sql_drop audit.no_drops [\"DROP TABLE\", \"DROP SCHEMA\"] disabled",
        ]
    );
    assert_eq!(
        c.event_triggers[0].comment.as_deref(),
        Some("who changed what")
    );
}

#[test]
fn foreign_data_round_trip() {
    hand_written("foreign_data.sql");
}

#[test]
fn foreign_data_is_in_the_catalog() {
    let (_db, c) = load(&[schema_file("foreign_data.sql")]).unwrap();
    let servers: Vec<String> = c
        .foreign_servers
        .iter()
        .map(|s| {
            format!(
                "{} {} {:?} {:?}",
                s.name, s.wrapper, s.server_type, s.options
            )
        })
        .collect();
    assert_eq!(
        servers,
        [
            "logs file_fdw Some(\"csv\") []",
            "orders_db postgres_fdw None [\"host=orders.internal\", \"dbname=orders\", \"port=5433\"]",
        ]
    );
    assert_eq!(
        c.foreign_servers[1].comment.as_deref(),
        Some("the orders service's database")
    );
    let mappings: Vec<String> = c
        .user_mappings
        .iter()
        .map(|m| format!("{} {}", m.server, m.role))
        .collect();
    assert_eq!(
        mappings,
        ["orders_db PUBLIC", "orders_db tenet_rt_fdw_reader"]
    );
    // Foreign tables are relations, but never tables.
    assert!(c.tables.is_empty(), "{:?}", c.tables);
    let orders = &c.foreign_tables[1];
    assert_eq!(
        (orders.name.as_str(), orders.server.as_str()),
        ("orders", "orders_db")
    );
    assert_eq!(orders.options, ["schema_name=public", "table_name=orders"]);
    let id = &orders.columns[0];
    assert_eq!(
        (id.data_type.as_str(), id.not_null, &id.options),
        ("bigint", true, &vec!["column_name=order_id".to_string()])
    );
    assert_eq!(
        orders.columns[1].collation.as_deref(),
        Some("pg_catalog.\"C\"")
    );
    assert_eq!(orders.columns[2].default.as_deref(), Some("0"));
    assert!(c.roles.iter().any(|r| r.name == "tenet_rt_fdw_reader"));
    assert_eq!(c.foreign_tables[2].depends_on, ["type remote.amount"]);
    let checks: Vec<&str> = c.foreign_tables[2]
        .checks
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(checks, ["refunds_positive"]);
    assert_eq!(
        c.foreign_tables[2].columns[2].generated.as_deref(),
        Some("(((amount)::numeric * (100)::numeric))::bigint")
    );
    let view = &c.views[0];
    assert_eq!(
        view.depends_on,
        [
            "foreign table remote.orders",
            "foreign table remote.refunds",
            "type remote.amount"
        ]
    );
}

/// Schema files run as an unprivileged role: it may create servers of an extension's wrapper,
/// mappings and foreign tables; creating a wrapper of its own is refused.
#[test]
fn foreign_data_loads_in_the_sandbox() {
    let sql = "create extension postgres_fdw;
        create server s foreign data wrapper postgres_fdw options (host 'h', dbname 'd');
        create user mapping for public server s options (user 'u', password 'secret-pw');
        create foreign table t (id int) server s options (table_name 't');
        comment on server s is 'remote';";
    let mut sandbox = tenet_testkit::sandbox();
    source::apply_script(&mut sandbox, Path::new("fdw.sql"), sql).unwrap();
    sandbox.finish().unwrap();
    let c = inspect(sandbox.admin()).unwrap();
    assert_eq!(c.foreign_servers.len(), 1);
    assert_eq!(c.foreign_servers[0].comment.as_deref(), Some("remote"));
    assert_eq!(c.user_mappings.len(), 1);
    assert_eq!(c.foreign_tables[0].name, "t");
    // The sandbox role's USAGE on the wrapper went with it.
    let wrapper_acl: Option<String> = sandbox
        .admin()
        .query_one(
            "select fdwacl::text from pg_foreign_data_wrapper where fdwname = 'postgres_fdw'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(
        !wrapper_acl.unwrap_or_default().contains("tenet_sandbox_"),
        "the sandbox role keeps USAGE on the wrapper"
    );

    let mut sandbox = tenet_testkit::sandbox();
    let err = source::apply_script(
        &mut sandbox,
        Path::new("fdw.sql"),
        "create table a (id int);\ncreate foreign data wrapper mine;",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("refused") && err.contains("FOREIGN DATA WRAPPER"),
        "{err}"
    );
}

/// A user mapping's password is a secret: it is in the database, and nowhere in what Tenet
/// reads, stores or renders.
#[test]
fn user_mapping_passwords_never_leave_the_database() {
    let (db, c) = load(&[schema_file("foreign_data.sql")]).unwrap();
    let stored: String = db
        .connect()
        .unwrap()
        .query_one(
            "select array_to_string(umoptions, ',') from pg_user_mappings where usename <> 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(stored.contains("hunter2-never-shown"), "{stored}");
    let json = serde_json::to_string(&c).unwrap();
    let sql = render::to_sql(&c);
    for (what, text) in [("catalog JSON", &json), ("rendered SQL", &sql)] {
        assert!(
            !text.contains("hunter2"),
            "{what} holds the password:\n{text}"
        );
        assert!(
            !text.contains("reader'"),
            "{what} holds the mapping's user:\n{text}"
        );
    }
}

#[test]
fn statistics_round_trip() {
    hand_written("statistics.sql");
}

#[test]
fn statistics_are_in_the_catalog() {
    let (_db, c) = load(&[schema_file("statistics.sql")]).unwrap();
    let statistics: Vec<String> = c
        .statistics
        .iter()
        .map(|s| {
            format!(
                "{}.{} on {} {:?} {:?}",
                s.schema, s.name, s.table, s.columns, s.target
            )
        })
        .collect();
    assert_eq!(
        statistics,
        [
            "app.by_city_country on app.by_city [\"city\", \"country\"] None",
            "app.city_zip on app.addresses [\"city\", \"zip\"] None",
            "app.created_day on app.addresses [\"created_at\"] None",
            "app.place on app.addresses [\"city\", \"country\", \"zip\"] Some(500)",
            "stats.norm_city on app.addresses [\"city\", \"country\"] None",
        ]
    );
    let by_name = |name: &str| c.statistics.iter().find(|s| s.name == name).unwrap();
    assert_eq!(
        by_name("city_zip").definition,
        "CREATE STATISTICS app.city_zip (ndistinct, dependencies) ON city, zip FROM app.addresses"
    );
    assert_eq!(
        by_name("city_zip").comment.as_deref(),
        Some("zip decides city")
    );
    assert!(
        by_name("norm_city").definition.contains("app.norm(city)"),
        "{}",
        by_name("norm_city").definition
    );
}

#[test]
fn text_search_round_trip() {
    hand_written("text_search.sql");
}

#[test]
fn text_search_is_in_the_catalog() {
    let (_db, c) = load(&[schema_file("text_search.sql")]).unwrap();
    let dictionaries: Vec<String> = c
        .text_search_dictionaries
        .iter()
        .map(|d| format!("{}.{} {} {:?}", d.schema, d.name, d.template, d.options))
        .collect();
    assert_eq!(
        dictionaries,
        [
            "mb.english_stem pg_catalog.snowball Some(\"language = 'english', stopwords = 'english'\")",
            "mb.simple_stop pg_catalog.simple Some(\"stopwords = 'english'\")",
            "mb.syn pg_catalog.synonym Some(\"synonyms = 'synonym_sample'\")",
        ]
    );
    let names: Vec<String> = c
        .text_search_configurations
        .iter()
        .map(|t| format!("{}.{} {}", t.schema, t.name, t.parser))
        .collect();
    assert_eq!(
        names,
        [
            "mb.english_copy pg_catalog.\"default\"",
            "mb.mb_simple pg_catalog.\"default\"",
        ]
    );
    let simple = &c.text_search_configurations[1];
    let mappings: Vec<String> = simple
        .mappings
        .iter()
        .map(|m| format!("{} {}", m.token, m.dictionaries.join(",")))
        .collect();
    assert_eq!(
        mappings,
        [
            "asciiword mb.syn,mb.simple_stop",
            "word mb.syn,mb.simple_stop",
            "numword pg_catalog.simple",
        ]
    );
    assert_eq!(simple.comment.as_deref(), Some("MusicBrainz simple"));
    let copy = &c.text_search_configurations[0];
    assert!(copy.mappings.iter().all(|m| m.token != "email"));
    let asciiword = copy
        .mappings
        .iter()
        .find(|m| m.token == "asciiword")
        .unwrap();
    assert_eq!(asciiword.dictionaries, ["mb.english_stem"]);
}

/// Schema files run as an unprivileged role: statistics and text search objects need no more,
/// and read back as they do from trusted SQL.
#[test]
fn statistics_and_text_search_load_in_the_sandbox() {
    for name in ["statistics.sql", "text_search.sql"] {
        let (_db, trusted) = load(&[schema_file(name)]).unwrap();
        let mut sandbox = tenet_testkit::sandbox();
        let sandboxed = source::load(&mut sandbox, &[schema_file(name)])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same(name, &trusted, &sandboxed);
    }
}

#[test]
fn every_object_kind_is_in_the_catalog() {
    let (_db, c) = load(&[schema_file("every_kind.sql")]).unwrap();
    let names = |v: Vec<&str>| v.join(",");
    assert_eq!(
        names(c.schemas.iter().map(|s| s.name.as_str()).collect()),
        "app,public"
    );
    assert_eq!(
        names(c.extensions.iter().map(|e| e.name.as_str()).collect()),
        "btree_gist,pg_trgm"
    );
    assert_eq!(c.collations.len(), 2);
    assert_eq!(c.types.len(), 4, "enum, composite and two domains");
    assert_eq!(
        c.sequences.len(),
        1,
        "identity sequences belong to their columns"
    );
    let accounts = c.tables.iter().find(|t| t.name == "accounts").unwrap();
    assert!(accounts.rls_enabled && accounts.rls_forced);
    assert_eq!(accounts.policies.len(), 3);
    assert!(
        !accounts
            .policies
            .iter()
            .find(|p| p.name == "accounts_write")
            .unwrap()
            .permissive
    );
    assert_eq!(
        accounts
            .column("id")
            .unwrap()
            .identity
            .as_ref()
            .unwrap()
            .generation,
        "by default"
    );
    assert_eq!(
        accounts.column("name_upper").unwrap().generated.as_deref(),
        Some("upper(name)")
    );
    assert_eq!(accounts.triggers.len(), 2);
    let bookings = c.tables.iter().find(|t| t.name == "bookings").unwrap();
    let fk = bookings
        .constraints
        .iter()
        .find(|k| k.name == "bookings_account_fk")
        .unwrap();
    let reference = fk.references.as_ref().unwrap();
    assert_eq!(
        (reference.on_delete.as_str(), reference.on_update.as_str()),
        ("cascade", "restrict")
    );
    assert!(fk.deferrable);
    assert!(
        !bookings
            .constraints
            .iter()
            .find(|k| k.name == "price_set")
            .unwrap()
            .validated
    );
    assert_eq!(bookings.indexes.len(), 3);
    let column_grants = |column: &str| -> Vec<String> {
        let grants = bookings.column(column).unwrap().grants.iter().flatten();
        grants
            .map(|g| format!("{}:{}:{}", g.grantee, g.privilege, g.grantable))
            .collect()
    };
    assert_eq!(column_grants("id"), ["tenet_rt_reader:SELECT:false"]);
    assert_eq!(
        column_grants("room"),
        [
            "tenet_rt_reader:SELECT:false",
            "tenet_rt_writer:REFERENCES:true"
        ]
    );
    assert_eq!(column_grants("note"), ["tenet_rt_reader:UPDATE:false"]);
    assert!(bookings.column("during").unwrap().grants.is_none());
    let accounts_name = accounts.column("name").unwrap().grants.clone();
    assert_eq!(
        accounts_name.unwrap().len(),
        1,
        "update (name) to the writer"
    );
    let partial = bookings
        .indexes
        .iter()
        .find(|i| i.name == "bookings_lower_note")
        .unwrap();
    assert_eq!(partial.include, vec!["room"]);
    assert!(partial.predicate.is_some());
    let events = c.tables.iter().find(|t| t.name == "events_2024").unwrap();
    assert!(events.partition_of.is_some() && events.partition_by.is_some());
    let views: Vec<&str> = c.views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        views,
        ["account_names", "booking_rooms", "happy_accounts", "totals"]
    );
    assert!(c
        .views
        .iter()
        .find(|v| v.name == "happy_accounts")
        .unwrap()
        .security_invoker());
    let definer = c
        .functions
        .iter()
        .find(|f| f.name == "safe_lookup")
        .unwrap();
    assert!(definer.security_definer);
    assert_eq!(definer.config, vec!["search_path=pg_catalog, pg_temp"]);
    assert_eq!(
        c.functions
            .iter()
            .filter(|f| f.name == "overloaded")
            .count(),
        2
    );
    assert!(c.functions.iter().any(|f| f.kind == "procedure"));
    let writer = c
        .roles
        .iter()
        .find(|r| r.name == "tenet_rt_writer")
        .unwrap();
    assert_eq!(writer.member_of, vec!["tenet_rt_reader"]);
}

#[test]
fn dependency_chains_round_trip() {
    hand_written("dependencies.sql");
}

#[test]
fn tenancy_schema_round_trips() {
    hand_written("tenancy.sql");
}

#[test]
fn catalog_json_round_trips_through_serde() {
    let (_db, catalog) = load(&[schema_file("every_kind.sql")]).unwrap();
    let json = serde_json::to_string(&catalog).unwrap();
    let back: Catalog = serde_json::from_str(&json).unwrap();
    assert_eq!(catalog, back);
}

/// Roles some corpus schemas grant to or write policies for; roles are cluster-wide.
fn create_corpus_roles() {
    let db = test_db();
    db.connect()
        .unwrap()
        .batch_execute(
            "do $$ begin create role schemainspect_test_role; \
             exception when duplicate_object or unique_violation then null; end $$",
        )
        .unwrap();
}

#[test]
fn real_world_corpus_round_trips() {
    let Some(fixtures) = tenet_testkit::corpus("migra-fixtures") else {
        return;
    };
    let entries = std::fs::read_dir(&fixtures).unwrap();
    create_corpus_roles();
    let mut cases: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    cases.sort();
    let (mut passed, mut skipped) = (0, Vec::new());
    for case in &cases {
        for side in ["a.sql", "b.sql"] {
            let file = case.join(side);
            if !file.exists() {
                continue;
            }
            let name = file.strip_prefix(&fixtures).unwrap().display().to_string();
            match load(std::slice::from_ref(&file)) {
                Ok((_db, catalog)) => {
                    assert_round_trip(&name, &catalog);
                    passed += 1;
                }
                // Only a missing extension excuses a schema that does not load.
                Err(e) if e.to_string().contains("extension") => {
                    skipped.push(format!("{name}: {e}"))
                }
                Err(e) => panic!("{name} does not load: {e}"),
            }
        }
    }
    eprintln!(
        "corpus: {passed} schemas round-trip, {} skipped",
        skipped.len()
    );
    for s in &skipped {
        eprintln!("  skipped {s}");
    }
    assert!(passed > 0, "no corpus schema was tested");
}

#[test]
fn operators_and_casts_round_trip() {
    hand_written("operators.sql");
}

#[test]
fn operators_and_casts_are_in_the_catalog() {
    let (_db, c) = load(&[schema_file("operators.sql")]).unwrap();
    let operators: Vec<String> = c
        .operators
        .iter()
        .map(|o| {
            format!(
                "{} {} {:?} {:?} {:?} {} {}",
                o.signature(),
                o.function,
                o.commutator,
                o.negator,
                (&o.restrict, &o.join),
                o.hashes,
                o.merges
            )
        })
        .collect();
    assert_eq!(
        operators,
        [
            "geo.!== (geo.mood, geo.mood) geo.mood_ne None Some(\"OPERATOR(geo.===)\") \
             (Some(\"neqsel\"), Some(\"neqjoinsel\")) false false",
            "geo.=== (geo.mood, geo.mood) geo.mood_eq Some(\"OPERATOR(geo.===)\") \
             Some(\"OPERATOR(geo.!==)\") (Some(\"eqsel\"), Some(\"eqjoinsel\")) true true",
            "geo.~+~ (NONE, geo.mood) geo.cheer None None (None, None) false false",
            "public.@~ (text, integer) public.text_has_int Some(\"OPERATOR(public.~@)\") None \
             (None, None) false false",
            "public.~@ (integer, text) public.int_in_text Some(\"OPERATOR(public.@~)\") None \
             (None, None) false false",
        ]
    );
    let eq = &c.operators[1];
    assert_eq!(eq.comment.as_deref(), Some("same mood"));
    assert!(eq
        .depends_on
        .contains(&"function geo.mood_eq(geo.mood, geo.mood)".to_string()));
    assert!(eq.depends_on.contains(&"type geo.mood".to_string()));
    let casts: Vec<String> = c
        .casts
        .iter()
        .map(|k| {
            format!(
                "{} {} {:?} {}",
                k.signature(),
                k.method,
                k.function,
                k.context
            )
        })
        .collect();
    assert_eq!(
        casts,
        [
            "(geo.mood AS integer) function Some(\"geo.mood_score(geo.mood)\") assignment",
            "(integer AS geo.mood) inout None explicit",
        ]
    );
    assert_eq!(c.casts[0].comment.as_deref(), Some("position in the enum"));
    // What uses them is created after them.
    let table = c.tables.iter().find(|t| t.name == "visits").unwrap();
    assert!(table
        .depends_on
        .contains(&"operator geo.!== (geo.mood, geo.mood)".to_string()));
    assert!(table
        .depends_on
        .contains(&"cast (geo.mood AS integer)".to_string()));
    let view = c.views.iter().find(|v| v.name == "happy_visits").unwrap();
    for key in [
        "operator geo.=== (geo.mood, geo.mood)",
        "operator geo.~+~ (NONE, geo.mood)",
        "operator public.@~ (text, integer)",
        "cast (geo.mood AS integer)",
    ] {
        assert!(view.depends_on.contains(&key.to_string()), "{key}");
    }
}

#[test]
fn operator_classes_round_trip() {
    hand_written("operator_classes.sql");
}

#[test]
fn operator_classes_are_in_the_catalog() {
    let (_db, c) = load(&[schema_file("operator_classes.sql")]).unwrap();
    let families: Vec<String> = c
        .operator_families
        .iter()
        .map(|f| format!("{} {:?}", f.signature(), f.members))
        .collect();
    assert_eq!(
        families,
        [
            "ord.loose USING hash [\"FUNCTION 1 (ord.size, ord.size) ord.size_hash(ord.size)\", \
             \"OPERATOR 1 ord.===(ord.size,ord.size)\"]",
            "ord.size_family USING btree []",
            "ord.size_hash_ops USING hash []",
        ]
    );
    let classes: Vec<String> = c
        .operator_classes
        .iter()
        .map(|k| {
            format!(
                "{} {} {} {} {:?}",
                k.signature(),
                k.data_type,
                k.family,
                k.default,
                k.members
            )
        })
        .collect();
    assert_eq!(
        classes,
        [
            "ord.size_hash_ops USING hash ord.size ord.size_hash_ops true \
             [\"FUNCTION 1 (ord.size, ord.size) ord.size_hash(ord.size)\", \
             \"OPERATOR 1 ord.===(ord.size,ord.size)\"]",
            "ord.size_reverse USING btree ord.size ord.size_family false \
             [\"FUNCTION 1 (ord.size, ord.size) ord.size_reverse_cmp(ord.size,ord.size)\", \
             \"OPERATOR 1 ord.<<<(ord.size,ord.size)\", \"OPERATOR 3 ord.===(ord.size,ord.size)\", \
             \"OPERATOR 5 ord.>>>(ord.size,ord.size)\"]",
        ]
    );
    let reverse = &c.operator_classes[1];
    assert_eq!(reverse.comment.as_deref(), Some("largest first"));
    for key in [
        "function ord.size_reverse_cmp(a ord.size, b ord.size)",
        "operator ord.<<< (ord.size, ord.size)",
        "operator family ord.size_family USING btree",
        "type ord.size",
    ] {
        assert!(reverse.depends_on.contains(&key.to_string()), "{key}");
    }
    let range = c.types.iter().find(|t| t.name == "size_range").unwrap();
    assert!(range
        .depends_on
        .contains(&"operator class ord.size_reverse USING btree".to_string()));
}

#[test]
fn operators_and_casts_load_unprivileged_but_operator_classes_do_not() {
    let (_db, trusted) = load(&[schema_file("operators.sql")]).unwrap();
    let mut sandbox = tenet_testkit::sandbox();
    let sandboxed = source::load(&mut sandbox, &[schema_file("operators.sql")]).unwrap();
    assert_eq!(sandboxed.operators.len(), trusted.operators.len());
    assert_eq!(sandboxed.casts.len(), trusted.casts.len());
    let mut sandbox = tenet_testkit::sandbox();
    let refused = source::load(&mut sandbox, &[schema_file("operator_classes.sql")]).unwrap_err();
    assert!(
        refused.to_string().contains("must be superuser"),
        "{refused}"
    );
}
