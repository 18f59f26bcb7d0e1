//! Benchmark: the no-op latency of `neon-migrate hook pre-push` — a push that changes no
//! watched path — against `git diff --name-only` over the same range.
//!
//! Run with `cargo bench --bench hook_noop`. It generates (once, cached) a repository of
//! 10,000 commits and 20,000 files with `git fast-import`: 200 folders of 100 files, a
//! `migrations/` folder and a `neon-migrate.toml`; every commit after the first edits two files
//! outside `migrations/`. `refs/remotes/origin/main` stays 20 commits behind `main`.
//!
//! Two pushes are timed, each as a whole process run with the pushed refs on stdin, exactly
//! as the installed hook calls it:
//!
//! * existing git branch: `main`, 20 commits ahead of `origin/main`;
//! * new git branch: `feature` (20 commits on top of `origin/main`, nothing on the remote), so
//!   the hook first finds the merge-base with the remote's default git branch.
//!
//! Both with the config `neon-migrate init` writes (`[tool] name = "sql"`), and once more for the
//! first push with a config that names no tool, so that loading it detects the tool by reading
//! the work tree's folders (reported, not a target: `init` names the tool).
//!
//! The reference is `git diff --name-only <base> <tip>` over the same range. Targets: median
//! ≤ 15 ms and ≤ 2× the reference. n = 40 measured rounds after 5 warm-up rounds, the two
//! commands alternating; `$NEON_MIGRATE_BENCH_ITERATIONS` overrides n. The repository lives
//! in `$NEON_MIGRATE_BENCH_DIR` (default `/var/tmp/neon-migrate-bench-hook`).
//!
//! Exit status: non-zero only on errors, never because a target was missed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const COMMITS: usize = 10_000;
const FOLDERS: usize = 200;
const FILES_PER_FOLDER: usize = 100;
/// How far `main` is ahead of `origin/main`: the commits of the timed push.
const AHEAD: usize = 20;
const TARGET: Duration = Duration::from_millis(15);
const TARGET_RATIO: f64 = 2.0;
/// Bump when the generated repository changes shape.
const LAYOUT: &str = "v2";
/// The config `neon-migrate init` writes for the built-in `sql` tool.
const CONFIG: &str = "version = 1\n\n[tool]\nname = \"sql\"\nmigrations-dir = \"migrations\"\n";

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench() -> Result<(), String> {
    let dir = std::env::var_os("NEON_MIGRATE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/neon-migrate-bench-hook"));
    let n: usize = std::env::var("NEON_MIGRATE_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let repo = dir.join(format!("repo-{LAYOUT}"));
    if !repo.join(".git/neon-migrate-bench-ready").exists() {
        let t = Instant::now();
        generate(&repo)?;
        println!(
            "generated {} commits, {} files in {} ({:.1} s)",
            COMMITS,
            FOLDERS * FILES_PER_FOLDER,
            repo.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let rev = |r: &str| git_out(&repo, &["rev-parse", r]);
    let main = rev("refs/heads/main")?;
    let origin = rev("refs/remotes/origin/main")?;
    let feature = rev("refs/heads/feature")?;
    let zero = "0".repeat(40);
    let files = git_out(&repo, &["ls-tree", "-r", "--name-only", "HEAD"])?
        .lines()
        .count();
    let commits: usize = git_out(&repo, &["rev-list", "--count", "main"])?
        .parse()
        .map_err(|e| format!("rev-list: {e}"))?;
    println!("repository: {commits} commits, {files} files; n = {n}");

    let bin = env!("CARGO_BIN_EXE_neon-migrate");
    let cases = [
        (
            "existing git branch (main, 20 commits ahead)",
            CONFIG,
            format!("refs/heads/main {main} refs/heads/main {origin}\n"),
            origin.clone(),
            main.clone(),
        ),
        (
            "new git branch (feature, merge-base with origin/main)",
            CONFIG,
            format!("refs/heads/feature {feature} refs/heads/feature {zero}\n"),
            origin.clone(),
            feature.clone(),
        ),
        (
            "existing git branch, config without [tool] (detection reads the work tree)",
            "version = 1\n",
            format!("refs/heads/main {main} refs/heads/main {origin}\n"),
            origin.clone(),
            main.clone(),
        ),
    ];
    let config_file = repo.join("neon-migrate.toml");
    for (name, config, stdin, base, tip) in cases {
        // Only the work tree's copy changes: the pushed range stays the same.
        std::fs::write(&config_file, config).map_err(|e| format!("write the config: {e}"))?;
        // The no-op must really be one: the hook says so and runs nothing.
        let out = hook(bin, &repo, &stdin)?;
        if !out.contains("no watched path changed") {
            return Err(format!(
                "{name}: the hook did not take the no-op path:\n{out}"
            ));
        }
        let mut hook_times = Vec::with_capacity(n);
        let mut diff_times = Vec::with_capacity(n);
        for round in 0..(n + 5) {
            let t = Instant::now();
            hook(bin, &repo, &stdin)?;
            let h = t.elapsed();
            let t = Instant::now();
            git_out(&repo, &["diff", "--name-only", &base, &tip])?;
            let d = t.elapsed();
            if round >= 5 {
                hook_times.push(h);
                diff_times.push(d);
            }
        }
        let (h, d) = (median(&mut hook_times), median(&mut diff_times));
        let ratio = h.as_secs_f64() / d.as_secs_f64();
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        println!("\n{name}");
        println!(
            "  neon-migrate hook pre-push   median {:>6.2} ms  [{:.2}–{:.2}]  target ≤ {} ms: {}",
            ms(h),
            ms(hook_times[0]),
            ms(*hook_times.last().expect("n > 0")),
            TARGET.as_millis(),
            verdict(h <= TARGET)
        );
        println!(
            "  git diff --name-only         median {:>6.2} ms  [{:.2}–{:.2}]",
            ms(d),
            ms(diff_times[0]),
            ms(*diff_times.last().expect("n > 0"))
        );
        println!(
            "  ratio                        {ratio:.2}×  target ≤ {TARGET_RATIO}×: {}",
            verdict(ratio <= TARGET_RATIO)
        );
    }
    std::fs::write(&config_file, CONFIG).map_err(|e| format!("write the config: {e}"))?;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sorts and returns the median.
fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn hook(bin: &str, repo: &Path, stdin: &str) -> Result<String, String> {
    let mut child = Command::new(bin)
        .args(["hook", "pre-push", "origin", "/nonexistent/remote.git"])
        .current_dir(repo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {bin}: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin.as_bytes())
        .map_err(|e| format!("stdin: {e}"))?;
    let out = child.wait_with_output().map_err(|e| format!("wait: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(format!("the hook failed ({}):\n{text}", out.status));
    }
    Ok(text)
}

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

fn git_out(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = git(repo)
        .args(args)
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Writes the repository with one `git fast-import` stream, then checks out `main`.
fn generate(repo: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(repo);
    std::fs::create_dir_all(repo).map_err(|e| format!("{}: {e}", repo.display()))?;
    git_out(repo, &["init", "-q", "-b", "main"])?;
    let mut child = git(repo)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git fast-import: {e}"))?;
    let mut w = std::io::BufWriter::new(child.stdin.take().expect("piped"));
    let mut write = |s: &str| w.write_all(s.as_bytes());
    let data = |s: &str| format!("data {}\n{s}\n", s.len());
    let path = |i: usize| {
        format!(
            "src/m{:03}/f{:03}.rs",
            i / FILES_PER_FOLDER,
            i % FILES_PER_FOLDER
        )
    };
    let commit = |mark: usize, branch: &str, msg: &str, from: Option<usize>| {
        let mut c = format!(
            "commit refs/heads/{branch}\nmark :{mark}\ncommitter Bench <bench@example.com> {} +0000\n{}",
            1_700_000_000 + mark * 60,
            data(msg)
        );
        if let Some(f) = from {
            c.push_str(&format!("from :{f}\n"));
        }
        c
    };
    let io = |e: std::io::Error| format!("git fast-import stdin: {e}");

    let mut first = commit(1, "main", "initial", None);
    for i in 0..FOLDERS * FILES_PER_FOLDER {
        first.push_str(&format!(
            "M 100644 inline {}\n{}",
            path(i),
            data(&format!("// file {i}\n"))
        ));
    }
    for (file, text) in [
        (
            "migrations/0001_init.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY);\n",
        ),
        ("neon-migrate.toml", CONFIG),
    ] {
        first.push_str(&format!("M 100644 inline {file}\n{}", data(text)));
    }
    write(&first).map_err(io)?;
    let edit = |mark: usize| {
        let mut s = String::new();
        for k in 0..2 {
            let i = (mark * 7919 + k * 104_729) % (FOLDERS * FILES_PER_FOLDER);
            s.push_str(&format!(
                "M 100644 inline {}\n{}",
                path(i),
                data(&format!("// file {i}, commit {mark}\n"))
            ));
        }
        s
    };
    for mark in 2..=COMMITS {
        let c = commit(mark, "main", &format!("commit {mark}"), Some(mark - 1)) + &edit(mark);
        write(&c).map_err(io)?;
    }
    let base = COMMITS - AHEAD;
    write(&format!("reset refs/remotes/origin/main\nfrom :{base}\n\n")).map_err(io)?;
    for k in 1..=AHEAD {
        let mark = COMMITS + k;
        let from = if k == 1 { base } else { mark - 1 };
        let c = commit(mark, "feature", &format!("feature {k}"), Some(from)) + &edit(mark);
        write(&c).map_err(io)?;
    }
    write("done\n").map_err(io)?;
    w.flush().map_err(io)?;
    drop(w);
    let status = child.wait().map_err(|e| format!("git fast-import: {e}"))?;
    if !status.success() {
        return Err(format!("git fast-import failed: {status}"));
    }
    git_out(
        repo,
        &[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ],
    )?;
    git_out(
        repo,
        &["remote", "add", "origin", "/nonexistent/remote.git"],
    )?;
    git_out(repo, &["checkout", "-q", "-f", "main"])?;
    std::fs::write(repo.join(".git/neon-migrate-bench-ready"), "")
        .map_err(|e| format!("mark ready: {e}"))?;
    Ok(())
}
