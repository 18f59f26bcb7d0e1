//! Benchmark: the `no-transaction` statement splitter (`tools::split::split`) on large files.
//!
//! Run with `cargo bench --bench split` (`$NEON_MIGRATE_BENCH_ITERATIONS` rounds per size,
//! default 5, the median is shown). A plain timing harness (no criterion), not a timed test:
//! it reports, it never fails because a target was missed.
//!
//! The input is a migration of N statements that uses everything the lexer knows: a
//! function with a `$$` body holding semicolons, a `DO $tag$` block, line and nested block
//! comments with semicolons in them, quoted strings and identifiers with semicolons,
//! `E'…'` escapes, and `CREATE INDEX CONCURRENTLY` (the reason the file is split at all).
//! Sizes 10,000, 20,000 and 50,000 statements (the sizes of issue #14); a linear splitter
//! keeps the time per statement flat, a quadratic one multiplies it by the size ratio. The
//! last line compares the largest size's time per statement with the smallest's. The first
//! round of every size also checks the split (statement count, last statement's line).

use std::time::{Duration, Instant};

use neon_migrate::tools::split::split;

const SIZES: [usize; 3] = [10_000, 20_000, 50_000];
const DEFAULT_ITERATIONS: usize = 5;

/// A migration of (about) `n` statements, cycling through eight shapes.
fn migration(n: usize) -> String {
    let mut s = String::with_capacity(n * 90);
    for i in 0..n {
        match i % 8 {
            0 => s.push_str(&format!(
                "create function f{i}() returns int language sql as $$ select 1; select {i}; $$;\n"
            )),
            1 => s.push_str(&format!(
                "do $body$ begin perform {i}; raise notice 'a;b'; end $body$;\n"
            )),
            2 => s.push_str(&format!("-- comment; with a semicolon\nselect {i};\n")),
            3 => s.push_str(&format!(
                "/* block; /* nested; */ still; */ insert into t values ({i}, 'it''s;');\n"
            )),
            4 => s.push_str(&format!("select \"odd;name\", E'esc\\';aped' from t{i};\n")),
            5 => s.push_str(&format!(
                "create index concurrently if not exists i{i} on t (c{i});\n"
            )),
            6 => s.push_str(&format!("update t set n = n + {i} where id = {i};\n")),
            _ => s.push_str(&format!("select $1, a$b, {i};\n\n")),
        }
    }
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let iterations = std::env::var("NEON_MIGRATE_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(DEFAULT_ITERATIONS);
    println!("split: {iterations} round(s) per size, median shown");
    println!(
        "{:>12} {:>12} {:>14} {:>16}",
        "statements", "bytes", "median", "per statement"
    );
    let mut per_statement = Vec::new();
    for n in SIZES {
        let sql = migration(n);
        let times: Vec<Duration> = (0..iterations)
            .map(|round| {
                let t = Instant::now();
                let out = split(&sql);
                let took = t.elapsed();
                if round == 0 {
                    // A wrong split would make the numbers meaningless.
                    assert_eq!(out.len(), n, "the splitter found {} statements", out.len());
                    let last = sql.lines().count() - 1;
                    assert_eq!(out[n - 1].line, last, "the last statement's line");
                }
                std::hint::black_box(out);
                took
            })
            .collect();
        let m = median(times);
        let per = m.as_secs_f64() / n as f64;
        per_statement.push(per);
        println!(
            "{n:>12} {:>12} {:>11.1} ms {:>13.2} µs",
            sql.len(),
            m.as_secs_f64() * 1e3,
            per * 1e6
        );
    }
    let growth = per_statement[per_statement.len() - 1] / per_statement[0];
    let ratio = SIZES[SIZES.len() - 1] / SIZES[0];
    println!(
        "time per statement at {} vs {} statements: ×{growth:.2} (linear ≈ ×1, quadratic ≈ ×{ratio})",
        SIZES[SIZES.len() - 1],
        SIZES[0]
    );
}
