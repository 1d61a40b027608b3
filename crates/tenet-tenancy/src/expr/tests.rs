//! Policy expressions as PostgreSQL renders them.

use super::*;

fn ctx(text_column: bool) -> ExprContext {
    ExprContext {
        text_column,
        ..ExprContext::direct("tenant_id", "app.tenant_id")
    }
}

fn membership_ctx() -> ExprContext {
    let mut user = ExprContext::direct("user_id", "app.user_id");
    user.direct = true;
    ExprContext {
        direct: false,
        via: vec![Via {
            outer: "org_id".into(),
            schema: "public".into(),
            table: "memberships".into(),
            key: "org_id".into(),
            inner: Box::new(user),
        }],
        ..ExprContext::direct("org_id", "app.user_id")
    }
}

#[test]
fn policies_admit_rows_by_value() {
    let v = admitting_values("((status = 'done'::task_status) AND is_public)");
    assert_eq!(v.get("status").map(String::as_str), Some("'done'"));
    assert_eq!(v.get("is_public").map(String::as_str), Some("true"));
    let v = admitting_values("((owner_role = 'public'::text) OR (priority = 3))");
    assert_eq!(v.len(), 1);
    assert!(admitting_values("(tenant_id IS NOT NULL)").is_empty());
}

#[test]
fn membership_sub_selects_restrict() {
    let c = membership_ctx();
    let v = |e: &str| analyze(Some(e), &c).verdict;
    for e in [
        "(org_id IN ( SELECT memberships.org_id FROM memberships WHERE (memberships.user_id = (current_setting('app.user_id'::text, true))::uuid)))",
        "(EXISTS ( SELECT 1 FROM memberships m WHERE ((m.org_id = projects.org_id) AND (m.user_id = (current_setting('app.user_id'::text, true))::uuid))))",
    ] {
        assert!(v(e).restricts(), "{e}");
    }
    for e in [
        // No user filter, the wrong user column, a join on the wrong key, the direct form.
        "(org_id IN ( SELECT memberships.org_id FROM memberships))",
        "(org_id IN ( SELECT memberships.org_id FROM memberships WHERE (memberships.role = (current_setting('app.user_id'::text, true)))))",
        "(EXISTS ( SELECT 1 FROM memberships m WHERE (m.user_id = (current_setting('app.user_id'::text, true))::uuid)))",
        "(org_id = (current_setting('app.user_id'::text, true))::uuid)",
    ] {
        assert!(!v(e).restricts(), "{e}");
    }
}

#[test]
fn supabase_auth_uid_restricts() {
    let mut c = ExprContext::direct("user_id", "request.jwt.claims");
    c.settings = vec!["request.jwt.claim.sub".into(), "request.jwt.claim".into()];
    c.json_settings = vec!["request.jwt.claims".into(), "request.jwt.claim".into()];
    c.helpers.insert(
        "auth.uid".into(),
        "coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''), (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid".into(),
    );
    c.helpers.insert(
        "auth.jwt".into(),
        "coalesce(nullif(current_setting('request.jwt.claim', true), ''), nullif(current_setting('request.jwt.claims', true), ''))::jsonb".into(),
    );
    let a = analyze(Some("(( SELECT auth.uid() AS uid) = user_id)"), &c);
    assert_eq!(
        a.verdict,
        Verdict::Restricts {
            empty_guarded: true
        }
    );
    assert!(!a.per_row);
    assert!(analyze(Some("(user_id = auth.uid())"), &c).per_row);
    assert!(
        analyze(Some("(user_id = ((auth.jwt() ->> 'sub'::text))::uuid)"), &c)
            .verdict
            .restricts()
    );
    // The user edits user_metadata; a JSON setting is never a uuid by itself.
    for e in [
        "(user_id = (((auth.jwt() -> 'user_metadata'::text) ->> 'sub'::text))::uuid)",
        "(user_id = (current_setting('request.jwt.claims'::text, true))::uuid)",
    ] {
        assert!(!analyze(Some(e), &c).verdict.restricts(), "{e}");
    }
}

fn verdict(expr: &str) -> Verdict {
    analyze(Some(expr), &ctx(false)).verdict
}

const GOOD: &str = "(tenant_id = ( SELECT (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid AS \"nullif\"))";

#[test]
fn the_generated_form_restricts_once_per_query() {
    let a = analyze(Some(GOOD), &ctx(false));
    assert_eq!(
        a.verdict,
        Verdict::Restricts {
            empty_guarded: true
        }
    );
    assert!(!a.per_row);
    assert!(a.reads_setting);
    let a = analyze(Some(GOOD), &ctx(true));
    assert_eq!(
        a.verdict,
        Verdict::Restricts {
            empty_guarded: true
        }
    );
}

#[test]
fn per_row_reads_are_seen() {
    let a = analyze(
        Some("(tenant_id = (current_setting('app.tenant_id'::text))::uuid)"),
        &ctx(false),
    );
    assert!(a.verdict.restricts());
    assert!(a.per_row);
}

#[test]
fn always_true_and_other_columns_do_not_restrict() {
    assert_eq!(verdict("true"), Verdict::NotRestricting(Reason::AlwaysTrue));
    assert_eq!(
        verdict("(true OR false)"),
        Verdict::NotRestricting(Reason::AlwaysTrue)
    );
    assert_eq!(
        verdict("(owner_id = (current_setting('app.tenant_id'::text))::uuid)"),
        Verdict::NotRestricting(Reason::NoTenantComparison)
    );
    assert_eq!(
        verdict("(tenant_id = (current_setting('app.other'::text))::uuid)"),
        Verdict::NotRestricting(Reason::NoTenantComparison)
    );
    assert_eq!(
        verdict("((tenant_id = (current_setting('app.tenant_id'::text))::uuid) OR is_public)"),
        Verdict::NotRestricting(Reason::NoTenantComparison)
    );
    // A comparison with a constant tenant is not the setting.
    assert_eq!(
        verdict("(tenant_id = '00000000-0000-0000-0000-000000000000'::uuid)"),
        Verdict::NotRestricting(Reason::NoTenantComparison)
    );
}

#[test]
fn false_and_and_restrict() {
    assert!(verdict("false").restricts());
    assert!(verdict(
        "((tenant_id = (current_setting('app.tenant_id'::text))::uuid) AND is_public)"
    )
    .restricts());
    assert!(verdict(
        "(is_public AND (tenant_id IN ((current_setting('app.tenant_id'::text))::uuid)))"
    )
    .restricts());
}

#[test]
fn escape_hatches_for_a_missing_setting_fail_open() {
    for e in [
        "((tenant_id = (current_setting('app.tenant_id'::text))::uuid) OR (current_setting('app.tenant_id'::text, true) IS NULL))",
        "((tenant_id)::text = COALESCE(current_setting('app.tenant_id'::text, true), (tenant_id)::text))",
        "CASE WHEN (current_setting('app.tenant_id'::text, true) = ''::text) THEN true ELSE (tenant_id = (current_setting('app.tenant_id'::text, true))::uuid) END",
        "(tenant_id = COALESCE((NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid, tenant_id))",
        "((COALESCE(current_setting('app.tenant_id'::text, true), ''::text) = ''::text) OR (tenant_id = (current_setting('app.tenant_id'::text, true))::uuid))",
    ] {
        assert_eq!(verdict(e), Verdict::NotRestricting(Reason::FailsOpen), "{e}");
    }
}

#[test]
fn empty_setting_on_a_text_column_is_not_guarded() {
    let a = analyze(
        Some("(tenant_id = current_setting('app.tenant_id'::text, true))"),
        &ctx(true),
    );
    assert_eq!(
        a.verdict,
        Verdict::Restricts {
            empty_guarded: false
        }
    );
    let a = analyze(
        Some("(tenant_id = NULLIF(current_setting('app.tenant_id'::text, true), ''::text))"),
        &ctx(true),
    );
    assert_eq!(
        a.verdict,
        Verdict::Restricts {
            empty_guarded: true
        }
    );
}

#[test]
fn helpers_are_inlined() {
    let mut c = ctx(false);
    c.helpers.insert(
        "app.current_tenant".into(),
        "NULLIF(current_setting('app.tenant_id', true), '')::uuid".into(),
    );
    let a = analyze(Some("(tenant_id = app.current_tenant())"), &c);
    assert_eq!(
        a.verdict,
        Verdict::Restricts {
            empty_guarded: true
        }
    );
    assert!(a.per_row);
    let a = analyze(
        Some("(tenant_id = ( SELECT app.current_tenant() AS current_tenant))"),
        &c,
    );
    assert!(!a.per_row);
    assert!(a.verdict.restricts());
}

#[test]
fn helper_bodies_are_read_from_definitions() {
    let def = "CREATE OR REPLACE FUNCTION app.current_tenant()\n RETURNS uuid\n LANGUAGE sql\n STABLE\nAS $function$ select nullif(current_setting('app.tenant_id', true), '')::uuid $function$\n";
    assert_eq!(
        helper_body(def).as_deref(),
        Some("nullif(current_setting('app.tenant_id', true), '')::uuid")
    );
    let def = "CREATE OR REPLACE FUNCTION app.current_tenant()\n RETURNS uuid\n LANGUAGE sql\n STABLE\nRETURN (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid\n";
    let body = helper_body(def).unwrap();
    let c = ctx(false);
    assert!(analyze(Some(&format!("(tenant_id = {body})")), &c)
        .verdict
        .restricts());
    assert_eq!(
        helper_body("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ select a $$"),
        None
    );
}

#[test]
fn per_row_reads_are_wrapped_in_a_sub_select() {
    let c = ctx(false);
    let e = "((tenant_id = (current_setting('app.tenant_id'::text, true))::uuid) AND (pg_catalog.current_setting('app.tenant_id'::text) <> ''::text))";
    let wrapped = wrap_per_row_reads(e, &c).unwrap();
    assert_eq!(
        wrapped,
        "((tenant_id = ((SELECT current_setting('app.tenant_id'::text, true)))::uuid) AND ((SELECT pg_catalog.current_setting('app.tenant_id'::text)) <> ''::text))"
    );
    let a = analyze(Some(&wrapped), &c);
    assert!(!a.per_row);
    assert!(a.verdict.restricts());
    assert_eq!(wrap_per_row_reads(GOOD, &c), None);
}
