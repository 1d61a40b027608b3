//! The `[lint]` section of `tenet.toml`: rules to disable and rules to re-level.

use std::collections::{BTreeMap, BTreeSet};

use tenet_config::LintConfig;
use tenet_report::{Finding, Severity};

use crate::rules;

#[derive(Debug, Clone, Default)]
pub struct Settings {
    disabled: BTreeSet<String>,
    severity: BTreeMap<String, Severity>,
}

impl Settings {
    /// Settings from the config. An unknown severity is an error; a rule id lint and advise do
    /// not know is only a warning (returned): it may be a tenancy rule.
    pub fn from_config(config: &LintConfig) -> Result<(Settings, Vec<String>), String> {
        let mut warnings = Vec::new();
        let mut check = |id: &str| {
            if rules::rule(id).is_none() {
                warnings.push(format!("[lint] names an unknown rule \"{id}\""));
            }
        };
        for id in &config.disable {
            check(id);
        }
        let mut severity = BTreeMap::new();
        for (id, level) in &config.severity {
            check(id);
            let level = Severity::parse(level).ok_or_else(|| {
                format!(
                    "[lint] severity for \"{id}\" is \"{level}\": use \"error\", \"warning\" or \"info\""
                )
            })?;
            severity.insert(id.clone(), level);
        }
        Ok((
            Settings {
                disabled: config.disable.iter().cloned().collect(),
                severity,
            },
            warnings,
        ))
    }

    /// Drop disabled rules' findings and re-level the rest.
    pub fn apply(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| !self.disabled.contains(&f.rule))
            .map(|mut f| {
                if let Some(level) = self.severity.get(&f.rule) {
                    f.severity = *level;
                }
                f
            })
            .collect()
    }
}
