//! The `[lint]` section of `tenet.toml`: rules to disable, rules to re-level, the table sizes
//! that scale lock and rewrite findings, and how long statistics must cover for unused-index.

use std::collections::{BTreeMap, BTreeSet};

use tenet_config::LintConfig;
use tenet_report::{Finding, Severity};

use crate::rules;

#[derive(Debug, Clone)]
pub struct Settings {
    disabled: BTreeSet<String>,
    severity: BTreeMap<String, Severity>,
    pub sizes: SizeThresholds,
    /// `unused-index` needs statistics covering at least this many days.
    pub unused_index_min_days: f64,
}

/// How a table's size scales the severity of lock and rewrite findings on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeThresholds {
    /// Fewer rows: info.
    pub warning_rows: u64,
    /// Fewer rows (and at least `warning_rows`): warning; more: error.
    pub error_rows: u64,
}

impl Default for SizeThresholds {
    fn default() -> Self {
        SizeThresholds {
            warning_rows: 10_000,
            error_rows: 1_000_000,
        }
    }
}

impl SizeThresholds {
    pub fn severity(&self, rows: u64) -> Severity {
        if rows < self.warning_rows {
            Severity::Info
        } else if rows < self.error_rows {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

/// Default of `[lint] unused_index_min_days`.
pub const UNUSED_INDEX_MIN_DAYS: f64 = 7.0;

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
        let defaults = SizeThresholds::default();
        let sizes = SizeThresholds {
            warning_rows: config.warning_rows.unwrap_or(defaults.warning_rows),
            error_rows: config.error_rows.unwrap_or(defaults.error_rows),
        };
        if sizes.warning_rows > sizes.error_rows {
            return Err(format!(
                "[lint] warning_rows ({}) is larger than error_rows ({})",
                sizes.warning_rows, sizes.error_rows
            ));
        }
        let unused_index_min_days = config
            .unused_index_min_days
            .unwrap_or(UNUSED_INDEX_MIN_DAYS);
        if !unused_index_min_days.is_finite() || unused_index_min_days < 0.0 {
            return Err(format!(
                "[lint] unused_index_min_days is {unused_index_min_days}: give a number of days, 0 or more"
            ));
        }
        Ok((
            Settings {
                disabled: config.disable.iter().cloned().collect(),
                severity,
                sizes,
                unused_index_min_days,
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

impl Default for Settings {
    fn default() -> Self {
        Settings {
            disabled: BTreeSet::new(),
            severity: BTreeMap::new(),
            sizes: SizeThresholds::default(),
            unused_index_min_days: UNUSED_INDEX_MIN_DAYS,
        }
    }
}
