//! `[checks.workload]`: validated by the check's own module
//! ([`crate::checks::workload::WorkloadConfig::from_raw`]); each problem is placed at its key,
//! a missing key at the header of the `[[checks.workload.query]]` entry it is missing from.

use std::ops::Range;

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
                    // The key itself, else (a missing key) the entry or table it belongs in.
                    let parent = &segs[..segs.len() - 1];
                    let span = self
                        .doc
                        .and_then(|d| {
                            key_span(d, &segs)
                                .or_else(|| entry_span(self.source, d, parent))
                                .or_else(|| key_span(d, parent))
                        })
                        .unwrap_or_else(|| self.key_at(&["checks", "workload"]));
                    self.push(
                        Problem::new("config::workload", span, p.message)
                            .label(p.label)
                            .help(p.help),
                    );
                }
                WorkloadConfig::default()
            }
        }
    }
}

/// The first line of the array entry at `path` (ending with its index): the
/// `[[checks.workload.query]]` header, or the start of an inline table.
fn entry_span(source: &str, root: &toml_edit::Table, path: &[Seg]) -> Option<Range<usize>> {
    use toml_edit::{Item, Value};
    let (Seg::Index(i), parents) = path.split_last()? else {
        return None;
    };
    let mut item = root.get(match parents.first()? {
        Seg::Key(k) => k.as_str(),
        Seg::Index(_) => return None,
    })?;
    for seg in &parents[1..] {
        let Seg::Key(k) = seg else { return None };
        item = item.as_table_like()?.get(k)?;
    }
    let span = match item {
        Item::ArrayOfTables(a) => a.get(*i)?.span()?,
        Item::Value(Value::Array(a)) => match a.get(*i)? {
            Value::InlineTable(t) => t.span()?,
            _ => return None,
        },
        _ => return None,
    };
    let line_end = source
        .get(span.clone())?
        .find('\n')
        .map_or(span.end, |n| span.start + n);
    Some(span.start..line_end.max(span.start))
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
