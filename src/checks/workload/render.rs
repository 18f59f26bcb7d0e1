//! How the rehearsal is shown: a per-query table and sparklines (p99, throughput, locks) on a
//! terminal; a table and two mermaid `xychart-beta` charts (which GitHub renders) in Markdown.

use std::fmt::Write as _;

use super::report::{Stats, Tick, WorkloadReport, TICK_MS};

fn columns(ticks: &[Tick], width: usize) -> Vec<Tick> {
    if ticks.len() <= width {
        return ticks.to_vec();
    }
    let per = ticks.len().div_ceil(width);
    ticks
        .chunks(per)
        .map(|c| Tick {
            t_ms: c[0].t_ms,
            during: c.iter().any(|t| t.during),
            qps: c.iter().map(|t| t.qps).sum::<f64>() / c.len() as f64,
            p99_ms: c.iter().map(|t| t.p99_ms).fold(0.0, f64::max),
            errors: c.iter().map(|t| t.errors).sum(),
            queued: c.iter().map(|t| t.queued).max().unwrap_or(0),
            lock: c
                .iter()
                .filter_map(|t| t.lock.clone())
                .max_by_key(|l| l.len()),
        })
        .collect()
}

/// `▁▂▃▄▅▆▇█` for `values`, scaled to their max.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

/// `before → during` of one statistic; `—` on a side with no answered request (none was due,
/// or every one failed: its latencies are not in the percentiles).
fn arrow(before: &Stats, during: &Stats, f: impl Fn(&Stats) -> f64) -> String {
    let side = |s: &Stats| match s.count > s.errors {
        true => format!("{}", f(s)),
        false => "—".to_owned(),
    };
    format!("{} → {}", side(before), side(during))
}

/// The terminal view: per-query table, then p99 / throughput / lock sparklines.
pub fn terminal(r: &WorkloadReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:>13} {:>16} {:>16} {:>18} {:>18} {:>7}",
        "query (before → during)", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    for q in &r.queries {
        let name: String = q.name.chars().take(24).collect();
        let _ = writeln!(
            out,
            "{name:<24} {:>13} {:>16} {:>16} {:>18} {:>18} {:>7}",
            format!("{}/{}", q.baseline.count, q.during.count),
            arrow(&q.baseline, &q.during, |s| s.p50_ms),
            arrow(&q.baseline, &q.during, |s| s.p95_ms),
            arrow(&q.baseline, &q.during, |s| s.p99_ms),
            arrow(&q.baseline, &q.during, |s| s.max_ms),
            q.during.errors
        );
    }
    let cols = columns(&r.timeline, 60);
    let start = cols.iter().position(|t| t.during).unwrap_or(cols.len());
    let mark = |s: String| {
        let chars: Vec<char> = s.chars().collect();
        let (a, b) = chars.split_at(start.min(chars.len()));
        format!(
            "{}┃{}",
            a.iter().collect::<String>(),
            b.iter().collect::<String>()
        )
    };
    let p99: Vec<f64> = cols.iter().map(|t| t.p99_ms).collect();
    let qps: Vec<f64> = cols.iter().map(|t| t.qps).collect();
    let locks: String = cols
        .iter()
        .map(|t| match t.lock.as_deref() {
            Some("ACCESS EXCLUSIVE") => 'X',
            Some(_) => 's',
            None => '·',
        })
        .collect();
    let secs = cols.last().map(|t| t.t_ms + TICK_MS).unwrap_or(0) as f64 / 1000.0;
    let _ = writeln!(
        out,
        "p99   {}  max {} ms",
        mark(sparkline(&p99)),
        p99.iter().copied().fold(0.0, f64::max)
    );
    let _ = writeln!(
        out,
        "q/s   {}  max {}",
        mark(sparkline(&qps)),
        qps.iter().copied().fold(0.0, f64::max)
    );
    let _ = write!(
        out,
        "lock  {}  X = ACCESS EXCLUSIVE, s = SHARE…; ┃ = migration starts; {secs:.1} s in all",
        mark(locks)
    );
    out
}

/// The Markdown view: per-query table, the lock queue, and two mermaid `xychart-beta` charts.
pub fn markdown(r: &WorkloadReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "\n### Workload rehearsal\n");
    let _ = writeln!(
        md,
        "Queries {}; baseline {} ms, migration {} ms, {} connection(s); {}.\n",
        r.source.describe(),
        r.baseline_ms,
        r.migration_ms,
        r.generator.connections,
        r.counts_line()
    );
    let _ = writeln!(md, "| query | requests before / during | p50 ms | p95 ms | p99 ms | max ms | errors |\n|---|--:|--:|--:|--:|--:|--:|");
    for q in &r.queries {
        let _ = writeln!(
            md,
            "| `{}` | {} / {} | {} | {} | {} | {} | {} |",
            q.name.replace('|', "\\|"),
            q.baseline.count,
            q.during.count,
            arrow(&q.baseline, &q.during, |s| s.p50_ms),
            arrow(&q.baseline, &q.during, |s| s.p95_ms),
            arrow(&q.baseline, &q.during, |s| s.p99_ms),
            arrow(&q.baseline, &q.during, |s| s.max_ms),
            q.during.errors
        );
    }
    for q in &r.queries {
        let conflicts = q.baseline.conflicts + q.during.conflicts;
        if conflicts > 0 {
            let _ = writeln!(md, "\n{}", super::verdict::conflicts_line(q, conflicts));
        }
    }
    if let Some(b) = &r.longest {
        let _ = writeln!(
            md,
            "\nLongest request: `{}`, {} ms{}.",
            b.query,
            b.ms,
            match (&b.table, &b.lock) {
                (Some(t), Some(l)) => format!(", waiting for {l} on `{t}`"),
                _ => String::new(),
            }
        );
    }
    let cols = columns(&r.timeline, 100);
    let secs = cols.last().map(|t| t.t_ms + TICK_MS).unwrap_or(0) as f64 / 1000.0;
    let fmt = |v: Vec<f64>| {
        v.iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let start = r.migration_start_ms as f64 / 1000.0;
    let _ = writeln!(
        md,
        "\n```mermaid\nxychart-beta\n    title \"p99 latency per 100 ms (migration starts at {start:.1} s)\"\n    x-axis \"seconds\" 0 --> {secs:.1}\n    y-axis \"ms\"\n    line [{}]\n```",
        fmt(cols.iter().map(|t| t.p99_ms).collect())
    );
    let _ = writeln!(
        md,
        "\n```mermaid\nxychart-beta\n    title \"answers per second\"\n    x-axis \"seconds\" 0 --> {secs:.1}\n    y-axis \"queries/s\"\n    bar [{}]\n```",
        fmt(cols.iter().map(|t| t.qps).collect())
    );
    md
}

/// The `max-blocked` finding when the blocker outlived the migration tool: named as such, with
/// the time the workload's observer saw it hold its lock (`locks_ms`: the locks check's, which
/// stops sampling when the tool exits).
pub(super) fn outlived(
    b: &super::report::Blocked,
    cfg: &super::WorkloadConfig,
    table: &str,
    locks_ms: Option<u64>,
) -> String {
    let lock = b.behind_lock.as_deref().unwrap_or("a lock");
    let mut s = format!(
        "`{}` was blocked {} ms (max-blocked = {} ms) behind a session that outlived the migration tool",
        b.query,
        b.ms,
        cfg.max_blocked.as_millis()
    );
    if let (Some(held), Some(after)) = (b.behind_held_ms, b.behind_held_after_ms) {
        let _ = write!(
            s,
            ", which held {lock} on {table} for ~{held} ms as observed, ~{after} ms of it after the tool exited"
        );
    }
    if let Some(h) = locks_ms {
        let _ = write!(
            s,
            " (the locks check stops sampling when the tool exits: it saw ~{h} ms of it)"
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::workload::report::tests::report;

    #[test]
    fn views_show_the_spike() {
        let r = report();
        let t = terminal(&r);
        assert!(t.contains("▁▁┃█▁"), "{t}");
        assert!(t.contains("··┃X·"), "{t}");
        let md = markdown(&r);
        assert!(md.contains("xychart-beta"));
        assert!(md.contains("line [0.6, 0.5, 180.0, 0.4]"), "{md}");
    }
}
