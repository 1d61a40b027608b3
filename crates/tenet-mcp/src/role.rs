//! What the server's role may do beyond reading data: the start-up warnings, and how
//! `execute_sql` keeps a query from doing it.

/// Predefined roles that reach past the database: server files, programs, other sessions.
pub const DANGEROUS_ROLES: &[&str] = &[
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
    "pg_signal_backend",
];

/// The current role's attributes that matter to an agent.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub superuser: bool,
    pub bypass_rls: bool,
    /// Which of [`DANGEROUS_ROLES`] it is a member of.
    pub dangerous: Vec<String>,
}

impl Role {
    /// The current role of `client`'s session.
    pub fn of_session(client: &mut impl postgres::GenericClient) -> Result<Role, String> {
        let row = client
            .query_one(
                "SELECT r.rolname::text, r.rolsuper, r.rolbypassrls,
                        ARRAY(SELECT d FROM unnest($1::text[]) d
                              WHERE CASE WHEN to_regrole(d) IS NULL THEN false
                                         ELSE pg_has_role(current_user, d, 'MEMBER') END)
                 FROM pg_roles r WHERE r.rolname = current_user",
                &[&DANGEROUS_ROLES],
            )
            .map_err(|e| format!("cannot read the current role: {e}"))?;
        Ok(Role {
            name: row.get(0),
            superuser: row.get(1),
            bypass_rls: row.get(2),
            dangerous: row.get(3),
        })
    }

    /// What an agent's user should know about this role.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.superuser {
            out.push(format!(
                "the database URL's role {:?} is a superuser. execute_sql drops to a transaction-local \
                 role that reads all data but reaches no server file, program or other session; the \
                 other tools (plan, prove_isolation, apply_migration) run as {:?}. Prefer a role that \
                 is not a superuser.",
                self.name, self.name
            ));
        } else if !self.dangerous.is_empty() {
            out.push(format!(
                "the database URL's role {:?} is a member of {}: execute_sql refuses to run as it \
                 unless started with --allow-write. Prefer a role without these memberships.",
                self.name,
                self.dangerous.join(", ")
            ));
        }
        if self.bypass_rls || self.superuser {
            out.push(format!(
                "the database URL's role {:?} bypasses row-level security: execute_sql and every \
                 tool see all tenants' rows.",
                self.name
            ));
        }
        out
    }
}
