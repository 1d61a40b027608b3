//! Tools about tenant isolation: advisors, the static check, the proof.

use rmcp::{tool, tool_router};

use crate::{catalog, connect, json, tenancy_config, Answer, TenetServer};

#[tool_router(router = tenancy_tools, vis = "pub(crate)")]
impl TenetServer {
    #[tool(
        description = "Advise on the live database: unindexed foreign keys, duplicate indexes, tables without a primary key, SECURITY DEFINER functions with a mutable search_path, extensions in public, and the tenant isolation rules when a tenancy config is present.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_advisors(&self) -> Answer {
        self.blocking(|s| {
            let catalog = catalog(s)?;
            let mut findings = tenet_lint::advise(&catalog, None);
            if let Ok(tenancy) = tenancy_config(s) {
                findings.extend(tenet_tenancy::check(&tenet_tenancy::Model::new(
                    &catalog, &tenancy,
                )));
            }
            Ok(tenet_report::to_json(&findings))
        })
        .await
    }

    #[tool(
        description = "Check tenant isolation rules (tenant column, RLS enabled and forced, policies, tenant-led keys and indexes, app role, views and functions that bypass RLS) against the [tenancy] config.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn check_tenancy(&self) -> Answer {
        self.blocking(|s| {
            let tenancy = tenancy_config(s)?;
            let catalog = catalog(s)?;
            let findings = tenet_tenancy::check(&tenet_tenancy::Model::new(&catalog, &tenancy));
            Ok(tenet_report::to_json(&findings))
        })
        .await
    }

    // Not read-only: the probes write rows and take locks inside a transaction that is always
    // rolled back, and sequences they draw from stay advanced.
    #[tool(
        description = "Prove tenant isolation on the live database: cross-tenant reads and writes as the app role, inside a transaction that is always rolled back. Returns JSON: per object, each probe's outcome (pass, leak, untested), and the counts.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn prove_isolation(&self) -> Answer {
        self.blocking(|s| {
            let tenancy = tenancy_config(s)?;
            let report = tenet_tenancy::prove::prove(&mut connect(s)?, &tenancy)
                .map_err(|e| e.to_string())?;
            json(&report)
        })
        .await
    }
}
