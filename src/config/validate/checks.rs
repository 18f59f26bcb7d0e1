//! `[checks]`: the settings of the schema, lint, locks, data, reversible and models checks, and the
//! project's `[[checks.sql]]`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{span, Validator};
use crate::config::diag::{self, Problem};
use crate::config::raw::{
    RawChecks, RawDataCheck, RawLintCheck, RawLocksCheck, RawSchemaCheck, RawSqlCheck, S,
};
use crate::config::{
    ChecksConfig, DataCheck, Expect, LintCheck, LocksCheck, ModelsCheck, ReversibleCheck,
    SchemaCheck, SqlCheck, LINT_WARN_DEFAULT,
};
use crate::schema::HazardKind;

impl Validator<'_> {
    pub(super) fn checks(&mut self, raw: &RawChecks) -> ChecksConfig {
        let schema = self.schema_check(raw.schema.as_ref());
        let lint = self.lint_check(raw.lint.as_ref());
        let locks = self.locks_check(raw.locks.as_ref());
        let data = self.data_check(raw.data.as_ref());
        let rr = raw.reversible.as_ref();
        let reversible = ReversibleCheck {
            enabled: rr.and_then(|r| r.enabled).unwrap_or(true),
            required: rr.and_then(|r| r.required).unwrap_or(false),
        };
        let workload = self.workload_check(raw.workload.as_ref());
        let rm = raw.models.as_ref();
        let models = ModelsCheck {
            enabled: rm.and_then(|r| r.enabled).unwrap_or(true),
            required: rm.and_then(|r| r.required).unwrap_or(false),
        };
        let checks = ChecksConfig {
            schema,
            lint,
            locks,
            data,
            reversible,
            workload,
            models,
            integrity: self.integrity_check(raw.integrity.as_ref()),
        };
        // A required check that does not run is not in the run at all: `required` would
        // guard nothing, and the run would pass without it.
        for name in [
            "schema",
            "lint",
            "locks",
            "data",
            "reversible",
            "workload",
            "models",
            "integrity",
        ] {
            if checks.required(name) && !checks.enabled(name) {
                let at = self.key_at(&["checks", name, "required"]);
                self.push(
                    Problem::new(
                        "config::check",
                        at,
                        format!("`required = true` but the `{name}` check is not enabled: it would not run at all, so the run would pass without it"),
                    )
                    .label("required, but off")
                    .help(format!("add `enabled = true` under [checks.{name}] (or remove `required`)")),
                );
            }
        }
        checks
    }

    /// `[checks.integrity]`: its own struct (`checks::integrity::IntegrityConfig`); a
    /// `sample-above` below 1 would sample every table.
    fn integrity_check(
        &mut self,
        raw: Option<&crate::checks::integrity::IntegrityConfig>,
    ) -> crate::checks::integrity::IntegrityConfig {
        let cfg = raw.cloned().unwrap_or_default();
        if cfg.sample_above < 1 {
            let at = self.key_at(&["checks", "integrity", "sample-above"]);
            self.push(
                Problem::new("config::value", at, "`sample-above` must be at least 1")
                    .help("a row count, e.g. `sample-above = 100000`"),
            );
        }
        cfg
    }

    fn schema_check(&mut self, rs: Option<&RawSchemaCheck>) -> SchemaCheck {
        let deny = match rs.and_then(|s| s.deny.as_ref()) {
            Some(list) => list
                .iter()
                .filter_map(|d| self.choice::<HazardKind>(d, "hazard kind"))
                .collect(),
            None => vec![HazardKind::DeletesData, HazardKind::BreaksWrites],
        };
        SchemaCheck {
            enabled: rs.and_then(|s| s.enabled).unwrap_or(true),
            required: rs.and_then(|s| s.required).unwrap_or(false),
            deny,
            allow_migrations: rs
                .and_then(|s| s.allow_migrations.clone())
                .unwrap_or_default(),
        }
    }

    fn lint_check(&mut self, rl: Option<&RawLintCheck>) -> LintCheck {
        let mut names = |list: Option<&Vec<S<String>>>| -> Vec<String> {
            let mut out = Vec::new();
            for r in list.into_iter().flatten() {
                if crate::checks::lint::rule_names().contains(&r.get_ref().as_str()) {
                    out.push(r.get_ref().clone());
                } else {
                    let known = crate::checks::lint::rule_names();
                    self.push(
                        Problem::new(
                            "config::lint-rule",
                            span(r),
                            format!("unknown lint rule `{}`", r.get_ref()),
                        )
                        .label("not a squawk rule")
                        .help(diag::suggest(r.get_ref(), "rules", &known)),
                    );
                }
            }
            out
        };
        let warn = match rl.and_then(|l| l.warn.as_ref()) {
            Some(list) => names(Some(list)),
            None => LINT_WARN_DEFAULT.iter().map(|s| s.to_string()).collect(),
        };
        LintCheck {
            enabled: rl.and_then(|l| l.enabled).unwrap_or(true),
            required: rl.and_then(|l| l.required).unwrap_or(false),
            ignore: names(rl.and_then(|l| l.ignore.as_ref())),
            warn,
        }
    }

    fn locks_check(&mut self, rk: Option<&RawLocksCheck>) -> LocksCheck {
        let default_budget = Duration::from_millis(500);
        let access_exclusive_budget = match rk {
            Some(k) => self.duration(
                &k.access_exclusive_budget,
                "checks.locks.access-exclusive-budget",
                default_budget,
            ),
            None => default_budget,
        };
        let default_write = access_exclusive_budget * 4;
        let write_lock_budget = match rk {
            Some(k) => self.duration(
                &k.write_lock_budget,
                "checks.locks.write-lock-budget",
                default_write,
            ),
            None => default_write,
        };
        let sample_interval = match rk {
            Some(k) => self.duration(
                &k.sample_interval,
                "checks.locks.sample-interval",
                Duration::from_millis(20),
            ),
            None => Duration::from_millis(20),
        };
        let mut tables = BTreeMap::new();
        for (t, d) in rk.map(|k| &k.tables).into_iter().flatten() {
            let budget = self.duration(
                &Some(d.clone()),
                &format!("checks.locks.tables.{t}"),
                default_budget,
            );
            tables.insert(t.clone(), budget);
        }
        LocksCheck {
            enabled: rk.and_then(|k| k.enabled).unwrap_or(true),
            required: rk.and_then(|k| k.required).unwrap_or(false),
            access_exclusive_budget,
            write_lock_budget,
            sample_interval,
            tables,
        }
    }

    fn data_check(&mut self, rd: Option<&RawDataCheck>) -> DataCheck {
        let exact_below = rd
            .and_then(|d| d.exact_below.as_ref())
            .map(|e| *e.get_ref())
            .unwrap_or(1_000_000);
        if let Some(e) = rd.and_then(|d| d.exact_below.as_ref()) {
            if *e.get_ref() < 0 {
                self.push(
                    Problem::new("config::value", span(e), "`exact-below` cannot be negative")
                        .help("a row count, e.g. `exact-below = 1000000`"),
                );
            }
        }
        DataCheck {
            enabled: rd.and_then(|d| d.enabled).unwrap_or(true),
            required: rd.and_then(|d| d.required).unwrap_or(false),
            exact_below,
            allow_loss: rd.and_then(|d| d.allow_loss.clone()).unwrap_or_default(),
        }
    }

    /// `[[checks.sql]]`: each check's name, query and one expectation.
    pub(super) fn sql_checks(&mut self, raw: Vec<RawSqlCheck>) -> Vec<SqlCheck> {
        let mut check_names: Vec<String> = Vec::new();
        raw.into_iter()
            .enumerate()
            .filter_map(|(i, c)| self.sql_check(i, c, &mut check_names))
            .collect()
    }

    fn sql_check(
        &mut self,
        i: usize,
        c: RawSqlCheck,
        check_names: &mut Vec<String>,
    ) -> Option<SqlCheck> {
        let name = match &c.name {
            Some(n) => {
                if check_names.contains(n.get_ref()) {
                    self.push(
                        Problem::new(
                            "config::duplicate",
                            span(n),
                            format!("two SQL checks are named `{}`", n.get_ref()),
                        )
                        .help("give each check a distinct name"),
                    );
                }
                n.get_ref().clone()
            }
            None => format!("sql check #{}", i + 1),
        };
        check_names.push(name.clone());
        let Some(query) = &c.query else {
            let sp = c.name.as_ref().map(span).unwrap_or(0..0);
            self.push(
                Problem::new(
                    "config::check",
                    sp,
                    format!("SQL check `{name}` has no `query`"),
                )
                .help("add `query = \"select …\"`"),
            );
            return None;
        };
        if query.get_ref().trim().is_empty() {
            self.push(
                Problem::new(
                    "config::check",
                    span(query),
                    format!("SQL check `{name}` has an empty `query`"),
                )
                .label("no SQL here")
                .help("write the query the check runs, e.g. `query = \"select count(*) = 0 from orders where total < 0\"`"),
            );
        }
        let expect = self.expectation(&name, &c, query);
        Some(SqlCheck {
            name,
            query: query.get_ref().clone(),
            expect,
        })
    }

    /// The one expectation of SQL check `name`: rows, a value, or `true` (the default).
    fn expectation(&mut self, name: &str, c: &RawSqlCheck, query: &S<String>) -> Expect {
        if let Some(r) = c.expect_rows.as_ref().filter(|r| *r.get_ref() < 0) {
            self.push(
                Problem::new(
                    "config::check",
                    span(r),
                    format!(
                        "SQL check `{name}`: `expect-rows = {}` can never match",
                        r.get_ref()
                    ),
                )
                .label("a negative row count")
                .help("`expect-rows` is the number of rows the query must return: 0 or more"),
            );
        }
        let given = [
            c.expect_rows.is_some(),
            c.expect_value.is_some(),
            c.expect_true.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            self.push(
                Problem::new(
                    "config::check",
                    span(query),
                    format!("SQL check `{name}` has more than one expectation"),
                )
                .help("give exactly one of `expect-rows`, `expect-value`, `expect-true`"),
            );
        }
        if let Some(r) = &c.expect_rows {
            Expect::Rows(*r.get_ref())
        } else if let Some(val) = &c.expect_value {
            Expect::Value(val.get_ref().clone())
        } else {
            if let Some(t) = &c.expect_true {
                if !t.get_ref() {
                    self.push(
                        Problem::new(
                            "config::check",
                            span(t),
                            "`expect-true = false` expects nothing",
                        )
                        .help("use `expect-value = \"false\"` to expect false"),
                    );
                }
            }
            Expect::True
        }
    }
}
