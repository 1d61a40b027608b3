//! What the app role reaches besides rows through policies, shared by the rules about it:
//! privileges row-level security does not govern (TRUNCATE, TRIGGER, REFERENCES), write
//! privileges, secret-looking columns, LEAKPROOF functions, CHECKs on the tenant column.

use tenet_catalog::{ConstraintKind, Table};

use crate::model::Model;

/// Privileges on a table that row-level security does not limit.
pub const BEYOND_RLS: [&str; 3] = ["TRUNCATE", "TRIGGER", "REFERENCES"];

/// Write privileges.
pub const WRITES: [&str; 4] = ["INSERT", "UPDATE", "DELETE", "TRUNCATE"];

/// Privileges the app role holds on `t` or its columns through grants (not ownership,
/// reported elsewhere).
pub(crate) fn granted<'p>(model: &Model, t: &Table, privileges: &[&'p str]) -> Vec<&'p str> {
    if model.is_app(&t.owner) {
        return Vec::new();
    }
    privileges
        .iter()
        .copied()
        .filter(|p| model.app_has_on_table(t, p))
        .collect()
}

/// A column name that looks like it holds a credential.
pub fn looks_secret(column: &str) -> bool {
    let lower = column.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let has = |w: &str| parts.contains(&w);
    let pair = |a: &str, b: &str| parts.windows(2).any(|p| p[0] == a && p[1] == b);
    // A token column, not a column about tokens (`token_endpoint_auth_method`, `token_type`).
    let token = parts.iter().enumerate().any(|(i, p)| {
        (*p == "token" || *p == "tokens")
            && parts
                .get(i + 1)
                .is_none_or(|n| matches!(*n, "hash" | "value" | "digest" | "encrypted"))
    });
    token
        || ["password", "passwd", "secret", "apikey", "otp", "salt"]
            .iter()
            .any(|w| has(w))
        || pair("api", "key")
        || pair("private", "key")
        || pair("access", "key")
        || lower.ends_with("password_hash")
}

/// Secret-looking columns of a global table the app role can read, through the table or a
/// grant on the column itself.
pub fn readable_secrets<'t>(model: &Model, t: &'t Table) -> Vec<&'t str> {
    let whole = model.app_has(&t.owner, &t.grants, false, "SELECT");
    t.columns
        .iter()
        .filter(|c| looks_secret(&c.name))
        .filter(|c| whole || model.app_has_on_column(t, c, "SELECT"))
        .map(|c| c.name.as_str())
        .collect()
}

/// Whether a CHECK constraint of `t` mentions `column` (e.g. `tenant_id <> ''`).
pub(crate) fn checks_column(t: &Table, column: &str) -> bool {
    t.constraints
        .iter()
        .any(|c| c.kind == ConstraintKind::Check && c.columns.iter().any(|x| x == column))
}

/// Whether a `CREATE FUNCTION` text declares the function LEAKPROOF.
pub fn is_leakproof(definition: &str) -> bool {
    use pg_query::NodeEnum;
    let Ok(parsed) = pg_query::parse(definition, pg_query::ParserOptions::DEFAULT) else {
        return false;
    };
    let Some(NodeEnum::CreateFunctionStmt(f)) = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| s.node.as_ref())
    else {
        return false;
    };
    f.options.iter().any(|o| match o.node.as_ref() {
        Some(NodeEnum::DefElem(d)) if d.defname == "leakproof" => !matches!(
            d.arg.as_ref().and_then(|a| a.node.as_ref()),
            Some(NodeEnum::Boolean(b)) if !b.boolval
        ),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for c in [
            "api_key",
            "secret",
            "refresh_token",
            "token_hash",
            "password_hash",
            "encrypted_password",
            "apiKey",
            "private_key",
            "client_secret_hash",
        ] {
            assert!(looks_secret(c), "{c}");
        }
        for c in [
            "name",
            "keyboard",
            "plan_id",
            "tokens_used",
            "secretary",
            "token_endpoint_auth_method",
            "token_type",
        ] {
            assert!(!looks_secret(c), "{c}");
        }
    }

    #[test]
    fn leakproof_is_read_from_the_definition() {
        assert!(is_leakproof("CREATE OR REPLACE FUNCTION public.f(t text)\n RETURNS boolean\n LANGUAGE plpgsql\n IMMUTABLE LEAKPROOF\nAS $function$ begin return true; end $function$\n"));
        assert!(!is_leakproof(
            "CREATE FUNCTION f(t text) RETURNS boolean LANGUAGE sql AS $$ select true $$"
        ));
    }
}
