//! Config parsing, fuzzed: `neon_migrate::config::parse` returns `Ok` or `Err` for any text —
//! it never panics — and every error renders (plain and fancy) without panicking either.
//!
//! Three generators: arbitrary text; configs assembled from the real keys, sections and
//! awkward values (huge and negative numbers, odd durations, templates, wrong types, unknown
//! keys); and the documented example file with random edits. Bounded (a fixed number of cases
//! per generator and a fixed seed per run of `cargo test`), so it takes seconds in CI; raise
//! `NM_FUZZ_CASES` for a longer local run.

use std::path::Path;

use neon_migrate::config;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};

const EXAMPLE: &str = include_str!("../neon-migrate.toml.example");

fn cases() -> u32 {
    std::env::var("NM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

/// The property: a result, never a panic; errors render.
fn parse_never_panics(text: &str) {
    let root = Path::new("/nonexistent/nm-fuzz-root");
    if let Err(e) = config::parse("neon-migrate.toml", text, root) {
        assert!(
            !e.problems.is_empty(),
            "an error without a problem for:\n{text}"
        );
        let _ = config::diag::render(&e, true);
        let _ = config::diag::render(&e, false);
    }
}

fn run<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let cfg = RunnerConfig {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..RunnerConfig::default()
    };
    // A fixed seed: the same cases on every run, so a CI failure reproduces locally.
    let seed: [u8; 32] = *b"neon-migrate config fuzz seed 01";
    let mut runner = TestRunner::new_with_rng(cfg, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let result = runner.run(&strategy, |v| {
        check(v);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// Keys that exist somewhere (and a few that do not), so tables get past "unknown key".
const KEYS: &[&str] = &[
    "version",
    "name",
    "ttl",
    "kind",
    "url",
    "main-database",
    "data-dir",
    "busy-parent",
    "tool-role",
    "project-id",
    "api-key-env",
    "api-key",
    "api-host",
    "parent",
    "database",
    "role",
    "operation-timeout",
    "migrations-dir",
    "command",
    "apply-command",
    "url-env",
    "timeout",
    "query",
    "expect-rows",
    "expect-value",
    "expect-true",
    "enabled",
    "deny",
    "allow-migrations",
    "ignore",
    "warn",
    "access-exclusive-budget",
    "write-lock-budget",
    "sample-interval",
    "tables",
    "exact-below",
    "allow-loss",
    "required",
    "git-branches",
    "lock-wait",
    "lock-timeout",
    "statement-timeout",
    "retries",
    "restore-point",
    "restore-point-ttl",
    "run",
    "env",
    "always",
    "description",
    "stages",
    "nmae",
    "ttl ",
    "",
];

const SECTIONS: &[&str] = &[
    "",
    "[neon-database-branch]",
    "[provider]",
    "[tool]",
    "[tool.env]",
    "[[checks.sql]]",
    "[checks]",
    "[checks.schema]",
    "[checks.lint]",
    "[checks.locks]",
    "[checks.data]",
    "[checks.reversible]",
    "[apply]",
    "[stages.s]",
    "[stages.create-neon-database-branch]",
    "[pipelines.deploy]",
    "[pipelines.p]",
    "[pipelines.\"\"]",
    "[stages]",
    "[[apply]]",
    "[provider.url]",
    "[checks.locks.tables]",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        // Durations, valid and not.
        prop::sample::select(vec![
            "\"0s\"",
            "\"1s\"",
            "\"4h\"",
            "\"1h30m\"",
            "\"500ms\"",
            "\"30d\"",
            "\"31d\"",
            "\"99999999999999999999999d\"",
            "\"18446744073709551615ms\"",
            "\"-1s\"",
            "\"1.5h\"",
            "\"0.5ms\"",
            "\"1.s\"",
            "\"h\"",
            "\"1\"",
            "\"\"",
            "\" \"",
            "\"1 h 2 m\"",
            "\"1weeks\"",
            "\"7d7d7d\"",
        ])
        .prop_map(str::to_owned),
        // Templates and names.
        prop::sample::select(vec![
            "\"migrate/{{git.branch}}\"",
            "\"{{\"",
            "\"{{nope}}\"",
            "\"{{env.}}\"",
            "\"{{#if x}}y{{/if}}\"",
            "\"{{{{raw}}}}\"",
            "\"neon\"",
            "\"local\"",
            "\"sql\"",
            "\"fail\"",
            "\"golden-template\"",
            "\"postgres://u:p@h/db\"",
            "\"napi_abc\"",
            "\"apply\"",
            "\"shell\"",
            "\"migrate\"",
            "\"checks\"",
            "\"é\\u0000\"",
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "0", "-1", "21", "1e400", "nan", "inf", "0x10", "1_000"
        ])
        .prop_map(str::to_owned),
        any::<bool>().prop_map(|b| b.to_string()),
        "[a-z0-9/_.-]{0,12}".prop_map(|s| format!("{s:?}")),
        any::<String>().prop_map(|s| format!("{s:?}")),
    ]
}

fn value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..3).prop_map(|kv| {
                let items: Vec<String> = kv.iter().map(|(k, v)| format!("{k:?} = {v}")).collect();
                format!("{{ {} }}", items.join(", "))
            }),
        ]
    })
}

fn assembled() -> impl Strategy<Value = String> {
    let line = (prop::sample::select(KEYS), value()).prop_map(|(k, v)| {
        if k.is_empty() || k.contains(' ') {
            format!("{k:?} = {v}")
        } else {
            format!("{k} = {v}")
        }
    });
    let table = (
        prop::sample::select(SECTIONS),
        prop::collection::vec(line, 0..6),
    )
        .prop_map(|(s, lines)| format!("{s}\n{}\n", lines.join("\n")));
    prop::collection::vec(table, 0..6).prop_map(|t| t.concat())
}

/// The example file with up to eight random edits (insert, delete, replace at char
/// boundaries), so most of it stays valid and the validator gets deep.
fn mutated_example() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0u8..3,
        0usize..40,
        "[\\[\\]{}=\"'#\\n a-z0-9.{}-]{0,6}",
    );
    prop::collection::vec(edit, 0..8).prop_map(|edits| {
        let mut text = EXAMPLE.to_owned();
        for (at, kind, len, insert) in edits {
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let start = bounds[at.index(bounds.len())];
            let end = bounds
                .iter()
                .copied()
                .find(|b| *b >= start + len)
                .unwrap_or(text.len());
            match kind {
                0 => text.insert_str(start, &insert),
                1 => text.replace_range(start..end, ""),
                _ => text.replace_range(start..end, &insert),
            }
        }
        text
    })
}

#[test]
fn the_example_parses() {
    config::parse(
        "neon-migrate.toml.example",
        EXAMPLE,
        Path::new("/nonexistent"),
    )
    .unwrap_or_else(|e| panic!("{}", config::diag::render(&e, true)));
}

#[test]
fn arbitrary_text_never_panics() {
    run("arbitrary text", any::<String>(), |t| {
        parse_never_panics(&t)
    });
    run(
        "toml-ish text",
        "[\\[\\]{}=\"'#\\n a-z.,0-9_-]{0,200}",
        |t| parse_never_panics(&t),
    );
}

#[test]
fn assembled_configs_never_panic() {
    run("assembled configs", assembled(), |t| parse_never_panics(&t));
}

#[test]
fn edited_examples_never_panic() {
    run("edited examples", mutated_example(), |t| {
        parse_never_panics(&t)
    });
}
