//! `[checks.workload]`: validated by the check's own module
//! ([`crate::checks::workload::WorkloadConfig::from_raw`]); each problem is placed at its key.

use super::{key_span, Seg, Validator};
use crate::checks::workload::{RawWorkloadConfig, WorkloadConfig};
use crate::config::diag::Problem;

impl Validator<'_> {
    pub(super) fn workload_check(&mut self, raw: Option<&RawWorkloadConfig>) -> WorkloadConfig {
        let Some(raw) = raw else {
            return WorkloadConfig::default();
        };
        match WorkloadConfig::from_raw(raw) {
            Ok(c) => c,
            Err(problems) => {
                for p in problems {
                    let segs = segments(&p.key);
                    // The key itself, else (a missing key) the table it belongs in.
                    let span = self
                        .doc
                        .and_then(|d| {
                            key_span(d, &segs).or_else(|| key_span(d, &segs[..segs.len() - 1]))
                        })
                        .unwrap_or_else(|| self.key_at(&["checks", "workload"]));
                    self.push(
                        Problem::new(
                            "config::workload",
                            span,
                            format!("`{}` {}", p.key, p.message),
                        )
                        .help(p.help),
                    );
                }
                WorkloadConfig::default()
            }
        }
    }
}

/// `checks.workload.query[2].rate` as segments.
fn segments(key: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in key.split('.') {
        match part.split_once('[') {
            Some((k, i)) => {
                segs.push(Seg::Key(k.to_owned()));
                segs.push(Seg::Index(i.trim_end_matches(']').parse().unwrap_or(0)));
            }
            None => segs.push(Seg::Key(part.to_owned())),
        }
    }
    segs
}
