//! Cases for the rule tests: the clean schemas of the fault suite (`tests/faults/`), plus a
//! variant, loaded into a fresh database with roles of its own, then checked.
//!
//! Roles are cluster-wide and tests run in parallel: `{{app}}`, `{{owner}}` and `{{other}}`
//! are replaced by names unique to the case, dropped when it ends.

use std::sync::atomic::{AtomicUsize, Ordering};

use tenet_catalog::Catalog;
use tenet_config::Tenancy;
use tenet_report::Finding;
use tenet_testkit::{server, test_db, ScratchDb};

use crate::Model;

/// Which clean schema a case starts from.
#[derive(Clone, Copy)]
pub enum Base {
    /// `tests/faults/clean.sql`: `tenant_id` compared with `app.tenant_id`.
    Direct,
    /// `tests/faults/membership/clean.sql`: users reach orgs through `memberships`.
    Membership,
    /// `tests/faults/supabase/clean.sql`: per-user rows, the real `auth.uid()`.
    Supabase,
}

impl Base {
    fn clean(self) -> &'static str {
        match self {
            Base::Direct => include_str!("../../../tests/faults/clean.sql"),
            Base::Membership => include_str!("../../../tests/faults/membership/clean.sql"),
            Base::Supabase => include_str!("../../../tests/faults/supabase/clean.sql"),
        }
    }

    /// The model of the base, as its header documents it.
    pub fn tenancy(self, app: &str, other: &str) -> Tenancy {
        match self {
            Base::Direct => Tenancy {
                column: "tenant_id".into(),
                setting: "app.tenant_id".into(),
                app_role: app.into(),
                global_tables: vec!["plans".into(), "tenants".into()],
                ..Default::default()
            },
            Base::Membership => Tenancy {
                column: "org_id".into(),
                setting: "app.user_id".into(),
                app_role: app.into(),
                global_tables: vec!["users".into()],
                membership: Some(tenet_config::Membership {
                    table: "memberships".into(),
                    user_column: "user_id".into(),
                }),
                ..Default::default()
            },
            Base::Supabase => {
                let mut t = tenet_config::Config::parse(
                    "[tenancy]\npreset = \"supabase\"\ncolumn = \"user_id\"\n",
                )
                .unwrap()
                .tenancy
                .unwrap();
                t.app_role = app.into();
                t.anon_role = other.into();
                t
            }
        }
    }
}

/// A loaded case: its database, roles and model.
pub struct Case {
    db: Option<ScratchDb>,
    roles: [String; 3],
    pub tenancy: Tenancy,
}

impl Case {
    /// `base`'s clean schema, then `variant`, in a fresh database.
    pub fn new(base: Base, variant: &str) -> Case {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("tenet_rt_{}_{n}", std::process::id());
        let roles = [
            format!("{prefix}_app"),
            format!("{prefix}_owner"),
            format!("{prefix}_other"),
        ];
        let fill = |sql: &str| {
            sql.replace("{{app}}", &roles[0])
                .replace("{{owner}}", &roles[1])
                .replace("{{other}}", &roles[2])
        };
        let db = test_db();
        let tenancy = base.tenancy(&roles[0], &roles[2]);
        let case = Case {
            db: Some(db),
            roles: roles.clone(),
            tenancy,
        };
        tenet_testkit::exec(case.db(), &fill(base.clean()));
        tenet_testkit::exec(case.db(), &fill(variant));
        case
    }

    pub fn db(&self) -> &ScratchDb {
        self.db
            .as_ref()
            .expect("the database lives as long as the case")
    }

    /// The catalog, with the app (and anonymous) role as `inspect` reports roles.
    pub fn catalog(&self) -> Catalog {
        let mut client = tenet_testkit::client(self.db());
        let mut catalog = tenet_catalog::inspect(&mut client).unwrap();
        crate::merge_role(&mut client, &mut catalog, &self.tenancy.app_role).unwrap();
        if !self.tenancy.anon_role.is_empty() {
            crate::merge_role(&mut client, &mut catalog, &self.tenancy.anon_role).unwrap();
        }
        catalog
    }

    /// Every finding of `tenet tenancy check`.
    pub fn findings(&self) -> Vec<Finding> {
        let catalog = self.catalog();
        crate::check(&Model::new(&catalog, &self.tenancy))
    }

    /// Every finding of `tenet tenancy check --citus`.
    pub fn citus_findings(&self) -> Vec<Finding> {
        let catalog = self.catalog();
        crate::check::citus::check(&Model::new(&catalog, &self.tenancy))
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        drop(self.db.take());
        if let Ok(mut client) = server().connect() {
            for r in self.roles.iter().rev() {
                let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {r}"));
            }
        }
    }
}

/// The findings of `rule` on `base` plus `variant`, asserting there is at least one.
pub fn fires_on(base: Base, variant: &str, rule: &str) -> Vec<Finding> {
    firing(Case::new(base, variant).findings(), rule)
}

/// Asserts `rule` says nothing on `base` plus `variant`.
pub fn silent_on(base: Base, variant: &str, rule: &str) {
    quiet(Case::new(base, variant).findings(), rule)
}

/// The findings of `rule` among `all`, asserting there is at least one.
fn firing(all: Vec<Finding>, rule: &str) -> Vec<Finding> {
    let found: Vec<Finding> = all.iter().filter(|f| f.rule == rule).cloned().collect();
    assert!(
        !found.is_empty(),
        "{rule} does not fire; findings:\n{}",
        tenet_report::to_human(&all)
    );
    found
}

/// Asserts `rule` is not among `all`.
fn quiet(all: Vec<Finding>, rule: &str) {
    let found: Vec<Finding> = all.into_iter().filter(|f| f.rule == rule).collect();
    assert!(
        found.is_empty(),
        "{rule} fires:\n{}",
        tenet_report::to_human(&found)
    );
}

/// [`fires_on`] the direct-column schema.
pub fn fires(variant: &str, rule: &str) -> Vec<Finding> {
    fires_on(Base::Direct, variant, rule)
}

/// [`silent_on`] the direct-column schema.
pub fn silent(variant: &str, rule: &str) {
    silent_on(Base::Direct, variant, rule)
}

/// The findings of Citus rule `rule` on `base` plus `variant`, asserting there is at least one.
pub fn citus_fires(base: Base, variant: &str, rule: &str) -> Vec<Finding> {
    firing(Case::new(base, variant).citus_findings(), rule)
}

/// Asserts Citus rule `rule` says nothing on `base` plus `variant`.
pub fn citus_silent(base: Base, variant: &str, rule: &str) {
    quiet(Case::new(base, variant).citus_findings(), rule)
}
