//! `[apply]`: who may apply to the main Neon database branch, and how safely.

use std::time::Duration;

use super::{span, Validator};
use crate::config::diag::Problem;
use crate::config::raw::RawApply;
use crate::config::{ApplyConfig, MAX_TTL};

impl Validator<'_> {
    /// `[apply]`; `lock_budget`: the ACCESS EXCLUSIVE budget the test copy was held to, the
    /// default lock wait (a statement queued for a lock blocks every query behind it).
    pub(super) fn apply(&mut self, ra: RawApply, lock_budget: Duration) -> ApplyConfig {
        let git_branches = ra
            .git_branches
            .as_ref()
            .map(|v| v.iter().map(|s| s.get_ref().clone()).collect::<Vec<_>>());
        if let Some(list) = &ra.git_branches {
            if list.is_empty() {
                self.push(
                    Problem::new(
                        "config::apply",
                        0..0,
                        "`git-branches` under [apply] is empty: nothing could ever apply",
                    )
                    .help(
                        "list the git branches allowed to apply, e.g. `git-branches = [\"main\"]`",
                    ),
                );
            }
        }
        let retries = match &ra.retries {
            Some(r) if !(0..=20).contains(r.get_ref()) => {
                self.push(
                    Problem::new(
                        "config::value",
                        span(r),
                        "`retries` must be between 0 and 20",
                    )
                    .help("the default is 5"),
                );
                5
            }
            Some(r) => *r.get_ref() as u32,
            None => 5,
        };
        let restore_point_ttl = self.duration(
            &ra.restore_point_ttl,
            "apply.restore-point-ttl",
            Duration::from_secs(7 * 86_400),
        );
        if let Some(t) = &ra.restore_point_ttl {
            if restore_point_ttl > MAX_TTL || restore_point_ttl.is_zero() {
                self.push(
                    Problem::new(
                        "config::ttl",
                        span(t),
                        "`restore-point-ttl` is out of range",
                    )
                    .help("between 1s and 30d; the default is `7d`"),
                );
            }
        }
        ApplyConfig {
            git_branches,
            lock_wait: self.duration(&ra.lock_wait, "apply.lock-wait", Duration::from_secs(300)),
            // attack11 A11: 3 s, six times the budget the copy was held to, let the apply's
            // own queued lock stall production's reads for 3 s per attempt.
            lock_timeout: self.duration(&ra.lock_timeout, "apply.lock-timeout", lock_budget),
            statement_timeout: self.duration(
                &ra.statement_timeout,
                "apply.statement-timeout",
                Duration::ZERO,
            ),
            retries,
            restore_point: ra.restore_point.unwrap_or(true),
            restore_point_ttl,
        }
    }
}
