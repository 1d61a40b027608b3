//! The sandbox untrusted SQL (schema files, replayed migrations) runs in: a scratch database
//! owned by a fresh unprivileged login role, and a session *authenticated as* that role, so
//! nothing the SQL does (`RESET ROLE`, `set_config('role', ...)`) gets it superuser rights.
//!
//! Alongside it a privileged session, connected to the same scratch database, runs the few
//! statements real schemas need privilege for (the caller decides which: `CREATE EXTENSION`,
//! `CREATE ROLE` with harmless attributes), and reads the catalog afterwards.
//!
//! Every round trip has a deadline: the session's `statement_timeout`, and (since the SQL can
//! `SET statement_timeout = 0`) a cancel request sent from the client when it passes.
//!
//! The database and the role carry this host and process in their names
//! (`tenet_scratch_<host>_<pid>_<n>`, `tenet_sandbox_<host>_<pid>_<n>`), so that a later run
//! can drop what a killed one left behind ([`sweep`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls};

use crate::cleanup;
use crate::error::PgError;
use crate::scratch::{quote_ident, ScratchDb};
use crate::server::{connect_with, Server};
use crate::settings::ConnectOptions;

/// The default limit on one round trip of schema SQL.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The comment on a role the SQL created, followed by the sandbox role's name.
const CREATED_IN: &str = "created in tenet sandbox ";

/// Sessions the sandbox role may open (the one Tenet uses, plus a little slack).
const CONNECTION_LIMIT: u32 = 3;

/// What happened to a `CREATE ROLE` the SQL asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleOutcome {
    Created,
    /// The role exists on the server already: used as is, never altered.
    Existed,
}

/// A scratch database and the two sessions on it. Dropping it drops the database, the roles
/// the SQL created and the sandbox role.
pub struct Sandbox {
    // Fields drop in order: sessions, then the database, then the roles.
    client: Client,
    admin: Client,
    db: ScratchDb,
    roles: RoleGuard,
    role: String,
    admin_user: String,
    superusers: BTreeSet<String>,
    options: ConnectOptions,
    timeout: Duration,
    embedded: bool,
    /// Objects only a superuser may create (publications of all tables or of schemas, event
    /// triggers) that the SQL created on the privileged session: (kind, name).
    privileged: BTreeSet<(String, String)>,
    /// The event triggers the SQL created, with the state it asked for (`O`, `R`, `A`, `D`):
    /// they stay disabled until [`Sandbox::finish`], so they never fire on anyone's DDL.
    event_triggers: BTreeMap<String, String>,
}

/// The kinds of object the SQL may create on the privileged session, as
/// [`Sandbox::created_privileged`] names them.
pub const PUBLICATION: &str = "publication";
pub const EVENT_TRIGGER: &str = "event trigger";

struct RoleGuard {
    cleanup_id: u64,
    created: Arc<Mutex<Vec<String>>>,
}

impl Drop for RoleGuard {
    fn drop(&mut self) {
        cleanup::run(self.cleanup_id);
    }
}

impl Sandbox {
    pub(crate) fn create(server: &Server, timeout: Duration) -> Result<Sandbox, PgError> {
        let target = server.target.clone();
        let pg = |e: postgres::Error| PgError::from_postgres(e, &target);
        let mut setup = server.connect()?;
        let suffix = crate::scratch::unique_suffix();
        let role = format!("tenet_sandbox_{suffix}");
        let password = random_password()?;
        let created = Arc::new(Mutex::new(Vec::new()));
        // Registered before CREATE ROLE, so a signal in between still drops it (IF EXISTS).
        let cleanup_id = {
            let (config, options, target) = (
                server.config.clone(),
                server.options.clone(),
                server.target.clone(),
            );
            let (role, created) = (role.clone(), created.clone());
            let cluster = server.embedded_dir().map(|d| d.to_path_buf());
            cleanup::register(move || {
                if cluster.as_deref().is_some_and(|dir| !dir.exists()) {
                    return;
                }
                let roles: Vec<String> = std::mem::take(&mut *lock(&created));
                drop_roles(&config, &options, &target, &roles, &role);
            })
        };
        let roles = RoleGuard {
            cleanup_id,
            created,
        };
        let ms = timeout.as_millis().max(1);
        setup
            .batch_execute(&format!(
                "CREATE ROLE {r} LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEDB NOCREATEROLE \
                 NOREPLICATION NOBYPASSRLS CONNECTION LIMIT {CONNECTION_LIMIT}; \
                 ALTER ROLE {r} SET statement_timeout = {ms}; \
                 COMMENT ON ROLE {r} IS 'tenet sandbox: dropped when its process ends'",
                r = quote_ident(&role)
            ))
            .map_err(|e| match pg(e) {
                PgError::Db(msg) => PgError::Db(format!(
                    "cannot create the sandbox role on {target}: {msg} (the dev server's user \
                     must be allowed to create roles)"
                )),
                other => other,
            })?;
        let superusers: BTreeSet<String> = setup
            .query("SELECT rolname::text FROM pg_roles WHERE rolsuper", &[])
            .map_err(pg)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let admin_user: String = setup
            .query_one("SELECT current_user::text", &[])
            .map_err(pg)?
            .get(0);
        if !superusers.contains(&admin_user) {
            // A dev server user with CREATEROLE and CREATEDB but not superuser must belong to
            // the role to give it a database and to take back what it owns.
            setup
                .batch_execute(&format!(
                    "GRANT {} TO {}",
                    quote_ident(&role),
                    quote_ident(&admin_user)
                ))
                .map_err(pg)?;
        }
        drop(setup);
        let db = ScratchDb::create_named(server, &format!("tenet_scratch_{suffix}"), Some(&role))?;
        let mut admin = db.connect()?;
        // A scratch database: nothing to lose in a crash. Statements the gate vetted run here
        // parsed as the gate parsed them (pg_query reads strings as standard-conforming), on
        // any server's configuration.
        admin
            .batch_execute("SET synchronous_commit = off; SET standard_conforming_strings = on")
            .map_err(pg)?;
        let mut config = db.config().clone();
        config.user(&role).password(password.as_bytes());
        let client = connect_with(&config, &server.options, &target).map_err(|e| match e {
            PgError::Rejected { target, detail } => PgError::Rejected {
                target,
                detail: format!(
                    "{detail} (Tenet runs schema SQL as a fresh unprivileged role \
                     tenet_sandbox_*, which pg_hba.conf must let connect with a password)"
                ),
            },
            other => other,
        })?;
        Ok(Sandbox {
            client,
            admin,
            db,
            roles,
            role,
            admin_user,
            superusers,
            options: server.options.clone(),
            timeout,
            embedded: server.is_embedded(),
            privileged: BTreeSet::new(),
            event_triggers: BTreeMap::new(),
        })
    }

    /// Run untrusted SQL (one or more statements, one round trip) as the sandbox role.
    pub fn execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        let (timeout, options) = (self.timeout, &self.options);
        with_deadline(&mut self.client, options, timeout, |c| c.batch_execute(sql))
    }

    /// Run SQL the caller vetted on the privileged session (in the scratch database).
    pub fn execute_privileged(&mut self, sql: &str) -> Result<(), postgres::Error> {
        let (timeout, options) = (self.timeout, &self.options);
        with_deadline(&mut self.admin, options, timeout, |c| c.batch_execute(sql))
    }

    /// Run `f` on the sandbox session under the deadline (for callers that need more than
    /// [`Sandbox::execute`], such as the lint replay's observed statements).
    pub fn with_client<T>(&mut self, f: impl FnOnce(&mut Client) -> T) -> T {
        let (timeout, options) = (self.timeout, &self.options);
        with_deadline(&mut self.client, options, timeout, f)
    }

    /// The sandbox session itself, without the client-side deadline (the role's
    /// statement_timeout still applies): for short statements Tenet writes itself.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Create a role the SQL asked for (`sql` is its vetted `CREATE ROLE`), unless it exists.
    /// A created role is granted to the sandbox role with ADMIN OPTION, so the SQL can grant
    /// it, own objects as it and use it in policies; it is dropped with the sandbox.
    pub fn create_role(&mut self, name: &str, sql: &str) -> Result<RoleOutcome, postgres::Error> {
        let exists = self
            .admin
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])?
            .is_some();
        if exists {
            if !self.embedded {
                tracing::warn!("role {name} exists on the dev server; left unchanged");
            }
            return Ok(RoleOutcome::Existed);
        }
        if let Err(e) = self.execute_privileged(sql) {
            // Another sandbox on this server (the other side of a plan, a parallel test)
            // created it between the look and the CREATE: it is theirs, used as it is.
            if e.code() == Some(&postgres::error::SqlState::DUPLICATE_OBJECT) {
                return Ok(RoleOutcome::Existed);
            }
            return Err(e);
        }
        lock(&self.roles.created).push(name.to_string());
        // The comment lets a later run drop the role if this process is killed.
        self.admin.batch_execute(&format!(
            "GRANT {r} TO {s} WITH ADMIN OPTION; COMMENT ON ROLE {r} IS '{CREATED_IN}{}'",
            self.role,
            r = quote_ident(name),
            s = quote_ident(&self.role)
        ))?;
        Ok(RoleOutcome::Created)
    }

    /// Whether the SQL created this role (in this sandbox).
    pub fn created_role(&self, name: &str) -> bool {
        lock(&self.roles.created).iter().any(|r| r == name)
    }

    /// The roles the SQL created so far.
    pub fn created_roles(&self) -> BTreeSet<String> {
        lock(&self.roles.created).iter().cloned().collect()
    }

    /// A role the SQL created was dropped by it.
    pub fn forget_role(&mut self, name: &str) {
        lock(&self.roles.created).retain(|r| r != name);
    }

    /// Run `sql` (vetted: it creates the `kind` object `name`, which only a superuser may) on
    /// the privileged session, and remember that it is there.
    pub fn create_privileged(
        &mut self,
        kind: &str,
        name: &str,
        sql: &str,
    ) -> Result<(), postgres::Error> {
        self.execute_privileged(sql)?;
        self.privileged.insert((kind.to_string(), name.to_string()));
        Ok(())
    }

    /// Create an event trigger (`sql` is its vetted `CREATE EVENT TRIGGER`) disabled, in the
    /// same transaction: its function is the SQL's own code, which must never run as the
    /// privileged user, whose DDL (REASSIGN OWNED, extensions) it would fire on.
    pub fn create_event_trigger(&mut self, name: &str, sql: &str) -> Result<(), postgres::Error> {
        // One round trip is one implicit transaction: it is never enabled for a moment.
        let disable = format!("ALTER EVENT TRIGGER {} DISABLE", quote_ident(name));
        self.execute_privileged(&format!("{sql}\n;\n{disable}"))?;
        self.privileged
            .insert((EVENT_TRIGGER.to_string(), name.to_string()));
        self.event_triggers.insert(name.to_string(), "O".into());
        Ok(())
    }

    /// Record the state (`O`, `R`, `A` or `D`, as `pg_event_trigger.evtenabled`) the SQL asks
    /// of an event trigger it created; false for one it did not.
    pub fn set_event_trigger_state(&mut self, name: &str, state: &str) -> bool {
        match self.event_triggers.get_mut(name) {
            Some(wanted) => {
                *wanted = state.to_string();
                true
            }
            None => false,
        }
    }

    /// Whether the SQL created the `kind` object `name` on the privileged session.
    pub fn created_privileged(&self, kind: &str, name: &str) -> bool {
        self.privileged
            .contains(&(kind.to_string(), name.to_string()))
    }

    /// The SQL dropped a privileged object it created.
    pub fn forget_privileged(&mut self, kind: &str, name: &str) {
        self.privileged
            .remove(&(kind.to_string(), name.to_string()));
        if kind == EVENT_TRIGGER {
            self.event_triggers.remove(name);
        }
    }

    /// Let the sandbox session prove tenant isolation on what the SQL built: it may bypass
    /// row-level security (to plant rows; only the scratch database's own data is there to
    /// see) and become `app_role`. After this no more untrusted SQL should be applied, but
    /// the schema's own code (triggers, defaults, policies) then still runs unprivileged.
    pub fn prepare_prover(&mut self, app_role: &str) -> Result<(), postgres::Error> {
        let me = quote_ident(&self.role);
        self.admin
            .batch_execute(&format!("ALTER ROLE {me} BYPASSRLS"))?;
        let exists = self
            .admin
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&app_role])?
            .is_some();
        if exists && !self.created_role(app_role) {
            self.admin
                .batch_execute(&format!("GRANT {} TO {me}", quote_ident(app_role)))?;
        }
        Ok(())
    }

    /// The sandbox role's name.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Whether `role` is the privileged user or another superuser (ownership the sandbox
    /// cannot hand out; it ends with the privileged user anyway, see [`Sandbox::finish`]).
    pub fn is_privileged_role(&self, role: &str) -> bool {
        role == self.admin_user || self.superusers.contains(role)
    }

    /// The limit on one round trip.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Hand what the sandbox role owns to the privileged user, so the catalog reads as if
    /// that user had applied the SQL (owners do not depend on the random role name). Its
    /// default privileges (`ALTER DEFAULT PRIVILEGES` without `FOR ROLE`), which `REASSIGN
    /// OWNED` leaves alone, are restated for that user and then dropped with `DROP OWNED`
    /// (which, once nothing is owned, only drops those and privileges granted to the role).
    pub fn finish(&mut self) -> Result<(), postgres::Error> {
        let (role, admin) = (quote_ident(&self.role), quote_ident(&self.admin_user));
        // REASSIGN OWNED locks everything it changes in one transaction: a table with its
        // indexes, TOAST table and sequences, and 2,000 tables are more than the server's lock
        // table holds (max_locks_per_transaction x max_connections, 6,400 by default: "out of
        // shared memory"). So relations change owner first, a hundred per transaction.
        let relations = self.admin.query(
            "SELECT format('ALTER %s %I.%I OWNER TO %I', CASE c.relkind WHEN 'v' THEN 'VIEW' \
             WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, \
             n.nspname, c.relname, $2::text) FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) \
             AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            &[&self.role, &self.admin_user],
        )?;
        for chunk in relations.chunks(100) {
            let alter: Vec<String> = chunk.iter().map(|row| row.get(0)).collect();
            // One message, one implicit transaction.
            self.admin.batch_execute(&alter.join(";\n"))?;
        }
        self.admin
            .batch_execute(&format!("REASSIGN OWNED BY {role} TO {admin}"))?;
        self.admin.batch_execute(&move_default_privileges(
            &quote_literal(&self.role),
            &quote_literal(&self.admin_user),
        ))?;
        self.admin.batch_execute(&format!("DROP OWNED BY {role}"))?;
        // Only reads follow, so the event triggers may now take the state the SQL gave them.
        let mut enable = String::new();
        for (name, state) in &self.event_triggers {
            let mode = match state.as_str() {
                "R" => " REPLICA",
                "A" => " ALWAYS",
                "D" => continue,
                _ => "",
            };
            enable.push_str(&format!(
                "ALTER EVENT TRIGGER {} ENABLE{mode};\n",
                quote_ident(name)
            ));
        }
        self.admin.batch_execute(&enable)
    }

    /// The privileged session on the scratch database: for reading the catalog and for
    /// Tenet's own work on it, never for the SQL under test.
    pub fn admin(&mut self) -> &mut Client {
        &mut self.admin
    }

    /// The scratch database.
    pub fn database(&self) -> &ScratchDb {
        &self.db
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("database", &self.db.name())
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `f` on `client`; when it takes longer than `limit` (plus a second, so the server's own
/// statement_timeout normally answers first), send a cancel request.
fn with_deadline<T>(
    client: &mut Client,
    options: &ConnectOptions,
    limit: Duration,
    f: impl FnOnce(&mut Client) -> T,
) -> T {
    let token = client.cancel_token();
    let (done, wait) = mpsc::channel::<()>();
    std::thread::scope(|threads| {
        threads.spawn(move || {
            if let Err(RecvTimeoutError::Timeout) =
                wait.recv_timeout(limit + Duration::from_secs(1))
            {
                let sent = match options.tls.connector() {
                    Some(tls) => token.cancel_query(tls),
                    None => token.cancel_query(NoTls),
                };
                if let Err(e) = sent {
                    tracing::warn!("could not cancel a statement past its timeout: {e}");
                }
            }
        });
        let out = f(client);
        drop(done);
        out
    })
}

/// 32 hex digits from the system's random source.
fn random_password() -> Result<String, PgError> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| PgError::Db(format!("cannot read /dev/urandom: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Drop the roles the SQL created, then the sandbox role (its database is gone by now).
fn drop_roles(
    config: &postgres::Config,
    options: &ConnectOptions,
    target: &str,
    created: &[String],
    role: &str,
) {
    let Ok(mut client) = connect_with(config, options, target) else {
        tracing::warn!("could not drop the sandbox role {role}: {target} is unreachable");
        return;
    };
    for name in created.iter().rev().map(String::as_str).chain([role]) {
        if let Err(e) = client.batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(name)))
        {
            tracing::warn!(
                "could not drop role {name}: {}",
                PgError::from_postgres(e, target)
            );
        }
    }
}

/// Drop the scratch databases and sandbox roles that processes of this host left behind when
/// they died without cleaning up (SIGKILL): their backends are ended first.
pub(crate) fn sweep(client: &mut Client, server: &Server) {
    let prefix = format!("{}_", crate::scratch::host_tag());
    let dead = |name: &str, kind: &str| -> bool {
        let Some(rest) = name
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix(&prefix))
        else {
            return false;
        };
        let pid = rest.split('_').next().and_then(|p| p.parse::<i32>().ok());
        pid.is_some_and(|pid| {
            pid as u32 != std::process::id() && !crate::embedded::process_alive(pid)
        })
    };
    let names = |sql: &str, client: &mut Client| -> Vec<String> {
        client
            .query(sql, &[])
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default()
    };
    let databases = names(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'tenet\\_scratch\\_%'",
        client,
    );
    for db in databases.iter().filter(|d| dead(d, "tenet_scratch_")) {
        tracing::debug!("dropping the stale scratch database {db} on {server}");
        crate::scratch::drop_database(&server.config, &server.options, &server.target, db);
    }
    // Roles the SQL created, tagged with their sandbox role's name.
    let created: Vec<(String, String)> = client
        .query(
            "SELECT r.rolname::text, d.description FROM pg_roles r \
             JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass \
             WHERE d.description LIKE $1",
            &[&format!("{CREATED_IN}tenet\\_sandbox\\_%")],
        )
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default();
    for (role, comment) in &created {
        let sandbox = comment.strip_prefix(CREATED_IN).unwrap_or_default();
        if dead(sandbox, "tenet_sandbox_") {
            let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(role)));
        }
    }
    let roles = names(
        "SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'tenet\\_sandbox\\_%'",
        client,
    );
    for role in roles.iter().filter(|r| dead(r, "tenet_sandbox_")) {
        tracing::debug!("dropping the stale sandbox role {role} on {server}");
        let _ = client.batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'; \
             DROP ROLE IF EXISTS {}",
            quote_ident(role)
        ));
    }
}

/// A DO block (run by a superuser) that gives `admin` the default privileges `role` has, the
/// role itself as grantee becoming `admin` too. Both are SQL literals; every name built into
/// a statement goes through `format`'s `%I` or a reg* type's quoting output.
fn move_default_privileges(role: &str, admin: &str) -> String {
    format!(
        "DO $tenet$ DECLARE d record; g record; kind text; scope text; \
         sandbox oid := (SELECT oid FROM pg_roles WHERE rolname = {role}); \
         BEGIN FOR d IN SELECT * FROM pg_default_acl WHERE defaclrole = sandbox LOOP \
           kind := CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' \
             WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END; \
           scope := CASE WHEN d.defaclnamespace = 0 THEN '' \
             ELSE ' IN SCHEMA ' || d.defaclnamespace::regnamespace::text END; \
           IF d.defaclnamespace = 0 THEN \
             EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE ALL ON %s FROM PUBLIC', {admin}, kind); \
             EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE ALL ON %s FROM %I', {admin}, kind, {admin}); \
           END IF; \
           FOR g IN SELECT * FROM aclexplode(d.defaclacl) LOOP \
             EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s GRANT %s ON %s TO %s%s', {admin}, scope, \
               g.privilege_type, kind, \
               CASE WHEN g.grantee = 0 THEN 'PUBLIC' WHEN g.grantee = sandbox THEN quote_ident({admin}) \
                 ELSE quote_ident(pg_get_userbyid(g.grantee)) END, \
               CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); \
           END LOOP; \
         END LOOP; END $tenet$"
    )
}

/// A string as an SQL literal (`standard_conforming_strings` is on on every supported server).
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
