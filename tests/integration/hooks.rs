//! The git pre-push hook end to end: `hooks install | uninstall | status`, and real `git push`es
//! to a local bare remote — through the installed thin hook, through the `cargo xtask migrate`
//! fallback, and through husky, lefthook and pre-commit (pinned in tests/tools/hook-managers/,
//! installed by scripts/test into the test-tools cache; without them those tests are skipped
//! with the reason, unless `NEON_MIGRATE_REQUIRE_TOOLS=1`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use neon_migrate::exit;
use neon_migrate::hooks::SCRIPT;
use neon_migrate::providers::local::cluster;

use crate::neonctl::{tools_dir, tools_required};
use crate::support::{cluster as shared_cluster, Output, Project, BIN};
use crate::Test;

/// Every test of this file.
pub fn tests() -> Vec<Test> {
    tests![
        hooks_install_writes_the_thin_hook_keeps_a_foreign_one_as_old_and_uninstall_restores_it,
        hooks_install_honours_core_hooks_path,
        git_push_changing_no_watched_path_proves_nothing_and_a_config_change_does,
        git_push_with_neon_migrate_0_bypasses_the_hook,
        git_push_of_a_new_git_branch_proves_its_migration_in_a_worktree_named_after_the_git_branch,
        git_push_of_a_failing_migration_is_stopped_and_the_remote_git_branch_unchanged,
        git_push_deleting_a_remote_git_branch_proves_nothing,
        git_push_from_the_root_proves_every_config_below_it_that_the_push_changes,
        git_push_in_a_temporary_worktree_borrows_the_dependency_folders_and_a_missing_tool_is_not_blamed_on_the_migration,
        git_push_removes_the_worktree_a_killed_hook_left_and_keeps_a_live_one,
        git_push_falls_back_to_cargo_xtask_migrate_from_the_example_crate => skip(&[Manager::Xtask]),
        git_push_without_neon_migrate_or_an_xtask_says_what_is_missing_and_how_to_fix_it,
        husky_runs_neon_migrate_on_git_push => skip(&[Manager::Husky]),
        hooks_install_under_husky_writes_husky_pre_push_which_survives_husky_rewriting_its_folder => skip(&[Manager::Husky]),
        hooks_uninstall_under_husky_removes_only_our_line => skip(&[Manager::Husky]),
        lefthook_runs_neon_migrate_on_git_push => skip(&[Manager::Lefthook]),
        pre_commit_runs_neon_migrate_on_git_push => skip(&[Manager::PreCommit]),
    ]
}

// ---- the pinned hook managers -------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub(crate) enum Manager {
    Husky,
    Lefthook,
    PreCommit,
    /// The example crate's binary (scripts/test builds it beside the binary under test).
    Xtask,
}

impl Manager {
    fn path(self) -> PathBuf {
        let d = tools_dir().join("hook-managers");
        match self {
            Manager::Husky => d.join("npm/node_modules/husky/bin.js"),
            Manager::Lefthook => d.join("npm/node_modules/.bin/lefthook"),
            Manager::PreCommit => d.join("venv/bin/pre-commit"),
            Manager::Xtask => Path::new(BIN).with_file_name("xtask"),
        }
    }

    fn problem(self) -> Option<String> {
        let path = self.path();
        let how = match self {
            Manager::Xtask => "scripts/test builds examples/xtask",
            _ => "scripts/test installs tests/tools/hook-managers",
        };
        if !path.exists() {
            return Some(format!("{} is missing ({how})", path.display()));
        }
        if !matches!(self, Manager::Xtask) && !tools_dir().join("hook-managers/.stamp").exists() {
            return Some(format!(
                "the hook managers are installed only in part ({how})"
            ));
        }
        None
    }
}

pub(crate) fn skip(managers: &[Manager]) -> Option<&'static str> {
    if tools_required() {
        return None;
    }
    let problems: Vec<String> = managers.iter().filter_map(|m| m.problem()).collect();
    (!problems.is_empty()).then(|| &*Box::leak(problems.join("; ").into_boxed_str()))
}

#[track_caller]
pub(crate) fn manager(m: Manager) -> PathBuf {
    if let Some(p) = m.problem() {
        panic!("{p} (NEON_MIGRATE_REQUIRE_TOOLS=1)");
    }
    m.path()
}

// ---- a project with a bare remote ---------------------------------------------------------

const INIT: &str = "create table customers (id bigint primary key);\n";
const ORDERS: &str = "create table orders (id bigint primary key);\n";

/// A project whose first commit (one migration) is on a local bare remote `origin`, whose
/// default git branch is the project's git branch.
pub(crate) struct Pushable {
    pub(crate) p: Project,
    pub(crate) remote: tempfile::TempDir,
    /// The git branch the project started on (the remote's default).
    pub(crate) main: String,
}

impl Pushable {
    pub(crate) fn new(name: &str) -> Self {
        Self::with(Project::new(name).migration("0001_init.sql", INIT).commit())
    }

    /// `p` (committed) on a new bare remote.
    pub(crate) fn with(p: Project) -> Self {
        let main = p.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
        let remote = tempfile::Builder::new()
            .prefix("nm-it-remote-")
            .tempdir()
            .expect("temp dir");
        run_git(remote.path(), &["init", "-q", "--bare", "-b", &main], &[]).success();
        p.git(&[
            "remote",
            "add",
            "origin",
            &remote.path().display().to_string(),
        ]);
        let s = Pushable { p, remote, main };
        s.git(&["push", "-q", "--no-verify", "origin", "HEAD"])
            .success();
        s.git(&["remote", "set-head", "origin", "-a"]).success();
        s
    }

    /// git in the project, hooks enabled, neon-migrate found through `$NEON_MIGRATE_BIN`.
    pub(crate) fn git(&self, args: &[&str]) -> Git {
        run_git(self.p.path(), args, &[("NEON_MIGRATE_BIN", BIN)])
    }

    pub(crate) fn git_env(&self, args: &[&str], env: &[(&str, &str)]) -> Git {
        run_git(self.p.path(), args, env)
    }

    /// The remote's commit of `git_branch` (empty when it has none).
    pub(crate) fn remote_sha(&self, git_branch: &str) -> String {
        run_git(
            self.remote.path(),
            &[
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{git_branch}"),
            ],
            &[],
        )
        .stdout
        .trim()
        .to_owned()
    }

    pub(crate) fn install(&self) {
        self.p.run(&["hooks", "install"]).code(exit::OK);
    }
}

/// What one git command did.
pub(crate) struct Git {
    out: Output,
}

/// git shows a pre-push hook's stdout on its stdout and the hook's stderr on its stderr, and
/// hook managers move both around: assertions look at both streams.
impl Git {
    #[track_caller]
    pub(crate) fn success(&self) -> &Self {
        self.out.code(0);
        self
    }

    #[track_caller]
    pub(crate) fn has(&self, needle: &str) -> &Self {
        assert!(
            self.all().contains(needle),
            "no {needle:?} in the output\n{}",
            self.out
        );
        self
    }

    #[track_caller]
    pub(crate) fn lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.all().contains(needle),
            "{needle:?} in the output\n{}",
            self.out
        );
        self
    }

    fn all(&self) -> String {
        format!("{}{}", self.out.stdout, self.out.stderr)
    }
}

impl std::ops::Deref for Git {
    type Target = Output;
    fn deref(&self) -> &Output {
        &self.out
    }
}

/// git with a clean configuration, the test's cluster, and `env`.
pub(crate) fn run_git(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Git {
    let mut c = Command::new("git");
    c.args([
        "-c",
        "user.name=neon-migrate tests",
        "-c",
        "user.email=tests@example.com",
        "-c",
        "commit.gpgsign=false",
    ])
    .args(args)
    .current_dir(dir)
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_CONFIG_GLOBAL", "/dev/null")
    .env(cluster::ENV_DIR, &shared_cluster().dir)
    .env("NO_COLOR", "1")
    .env_remove("NEON_MIGRATE")
    .env_remove("NEON_MIGRATE_BIN")
    .env_remove("DATABASE_URL")
    .env_remove("GITHUB_ACTIONS")
    .env_remove("GITHUB_STEP_SUMMARY")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let started = Instant::now();
    let out = c.output().expect("run git");
    // What the hook printed through git (`git push` shows neon-migrate's run) is scanned for
    // secrets with the rest of the suite's output.
    let out = Output::recorded(format!("git {}", args.join(" ")), &out, started.elapsed());
    Git { out }
}

/// Asserts that the pre-push pipeline ran for `git_branch` and passed.
#[track_caller]
fn assert_proved(out: &Git, git_branch: &str) {
    let db = format!(
        "Neon database branch  migrate/{}",
        git_branch.to_lowercase()
    );
    out.has("neon-migrate · pipeline `pre-push`")
        .has(&format!("git branch            {git_branch} @"))
        .has(&db)
        .has("PASSED");
}

// ---- the tests ----------------------------------------------------------------------------

fn hooks_install_writes_the_thin_hook_keeps_a_foreign_one_as_old_and_uninstall_restores_it() {
    let p = Project::new("hooks_install").commit();
    let hooks = p.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let foreign = "#!/bin/sh\necho 'foreign hook ran'\n";
    std::fs::write(hooks.join("pre-push"), foreign).unwrap();

    p.run(&["hooks", "install"])
        .code(exit::OK)
        .stdout_has("kept the existing hook as .git/hooks/pre-push.old")
        .stdout_has("installed .git/hooks/pre-push");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        SCRIPT
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push.old")).unwrap(),
        foreign
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(hooks.join("pre-push"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "the hook is executable: {mode:o}");

    p.run(&["hooks", "status"])
        .code(exit::OK)
        .stdout_has("hooks folder   .git/hooks (default; core.hooksPath unset)")
        .stdout_has("pre-push       installed, v2 (current)")
        .stdout_has("kept hook      .git/hooks/pre-push.old (runs first)")
        .stdout_has("watches        migrations, neon-migrate.toml");
    p.run(&["hooks", "install"])
        .code(exit::OK)
        .stdout_has("is installed and current");

    // An outdated hook of ours is updated in place; the kept one stays.
    std::fs::write(
        hooks.join("pre-push"),
        "#!/bin/sh\n# neon-migrate pre-push hook v1\n",
    )
    .unwrap();
    p.run(&["hooks", "install"])
        .code(exit::OK)
        .stdout_has("updated .git/hooks/pre-push (was v1)");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push.old")).unwrap(),
        foreign
    );

    // A second foreign hook while one is kept: refused, nothing changes.
    std::fs::write(hooks.join("pre-push"), "#!/bin/sh\necho other\n").unwrap();
    p.run(&["hooks", "install"])
        .code(exit::CONFIG)
        .stderr_has("pre-push.old exists already; nothing changed");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        "#!/bin/sh\necho other\n"
    );
    p.run(&["hooks", "uninstall"])
        .code(exit::OK)
        .stdout_has("is not neon-migrate's; left alone");

    std::fs::write(hooks.join("pre-push"), SCRIPT).unwrap();
    p.run(&["hooks", "uninstall"])
        .code(exit::OK)
        .stdout_has("removed .git/hooks/pre-push")
        .stdout_has("restored .git/hooks/pre-push.old as .git/hooks/pre-push");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        foreign
    );
    assert!(!hooks.join("pre-push.old").exists());
}

fn hooks_install_honours_core_hooks_path() {
    let p = Project::new("hooks_path").commit();
    p.git(&["config", "core.hooksPath", ".githooks"]);
    p.run(&["hooks", "install"])
        .code(exit::OK)
        .stdout_has("installed .githooks/pre-push (core.hooksPath)");
    assert_eq!(
        std::fs::read_to_string(p.path().join(".githooks/pre-push")).unwrap(),
        SCRIPT
    );
    assert!(!p.path().join(".git/hooks/pre-push").exists());
    p.run(&["hooks", "status"])
        .code(exit::OK)
        .stdout_has("hooks folder   .githooks (core.hooksPath)");
}

fn git_push_changing_no_watched_path_proves_nothing_and_a_config_change_does() {
    let s = Pushable::new("push_noop");
    s.install();
    let p = s.p.file("README.md", "docs only\n").commit();
    let s = Pushable { p, ..s };
    let out = s.git(&["push", "origin", "HEAD"]);
    out.success()
        .has("no watched path changed (migrations, neon-migrate.toml); nothing to prove")
        .has(&format!("git branch {} at", s.main));
    out.lacks("pipeline `pre-push`");
    assert_eq!(s.remote_sha(&s.main), s.p.git(&["rev-parse", "HEAD"]));

    // The config declares the checks: changing it is something to prove.
    let s2 = s.p.config("# a comment that changes the file\n").commit();
    let s = Pushable { p: s2, ..s };
    let out = s.git(&["push", "origin", "HEAD"]);
    out.success()
        .has("1 watched file(s) changed: neon-migrate.toml");
    assert_proved(&out, &s.main);
    s.p.assert_no_test_db_branches();
}

fn git_push_with_neon_migrate_0_bypasses_the_hook() {
    let s = Pushable::new("push_bypass");
    s.install();
    let p = s.p.migration("0002_orders.sql", ORDERS).commit();
    let s = Pushable { p, ..s };
    let out = s.git_env(
        &["push", "origin", "HEAD"],
        &[("NEON_MIGRATE_BIN", BIN), ("NEON_MIGRATE", "0")],
    );
    out.success().has("neon-migrate: skipped (NEON_MIGRATE=0)");
    out.lacks("pipeline");
    assert_eq!(s.remote_sha(&s.main), s.p.git(&["rev-parse", "HEAD"]));
}

fn git_push_of_a_new_git_branch_proves_its_migration_in_a_worktree_named_after_the_git_branch() {
    let s = Pushable::new("push_new");
    s.install();
    let p =
        s.p.git_branch("feature/Add-Orders")
            .migration("0002_orders.sql", ORDERS)
            .commit();
    let s = Pushable { p, ..s };
    let main = s.main.clone();
    s.p.git(&["checkout", "-q", &main]);
    // The pushed commit is not the checked-out one, and the work tree lacks its migration.
    assert!(!s.p.path().join("migrations/0002_orders.sql").exists());
    let out = s.git(&["push", "origin", "feature/Add-Orders"]);
    out.success()
        .has(&format!(
            "git branch feature/Add-Orders at {} since its merge-base",
            &s.p.git(&["rev-parse", "--short=7", "feature/Add-Orders"])
        ))
        .has(&format!("with origin/{main} (new git branch)"))
        .has("1 watched file(s) changed: migrations/0002_orders.sql")
        .has("proving it in a temporary worktree")
        .has("applied 0002_orders.sql");
    assert_proved(&out, "feature/Add-Orders");
    assert_eq!(
        s.remote_sha("feature/Add-Orders"),
        s.p.git(&["rev-parse", "feature/Add-Orders"])
    );
    let worktrees = s.p.git(&["worktree", "list"]);
    assert_eq!(
        worktrees.lines().count(),
        1,
        "the temporary worktree is gone:\n{worktrees}"
    );
    s.p.assert_no_test_db_branches();
}

fn git_push_of_a_failing_migration_is_stopped_and_the_remote_git_branch_unchanged() {
    let s = Pushable::new("push_failing");
    s.install();
    let before = s.remote_sha(&s.main);
    let p =
        s.p.migration(
            "0002_broken.sql",
            "create table broken (id bigint primary key,);\n",
        )
        .commit();
    let s = Pushable { p, ..s };
    let out = s.git(&["push", "origin", "HEAD"]);
    assert_ne!(out.code, 0, "the push must fail\n{}", *out);
    out.has("FAILED")
        .has("0002_broken.sql")
        .has("the push is stopped")
        .has("failed to push some refs");
    assert_eq!(s.remote_sha(&s.main), before, "the remote is unchanged");
    s.p.assert_no_test_db_branches();
}

fn git_push_deleting_a_remote_git_branch_proves_nothing() {
    let s = Pushable::new("push_delete");
    s.git(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        "HEAD:refs/heads/old-work",
    ])
    .success();
    s.install();
    let out = s.git(&["push", "origin", ":old-work"]);
    out.success()
        .has("neon-migrate: refs/heads/old-work: deleted, nothing to prove");
    assert_eq!(s.remote_sha("old-work"), "");
}

/// A `cargo` on PATH that only knows `cargo xtask …`, running the example crate's binary: the
/// hook's last fallback, with arguments and stdin forwarded.
fn git_push_falls_back_to_cargo_xtask_migrate_from_the_example_crate() {
    let xtask = manager(Manager::Xtask);
    let s = Pushable::new("push_xtask");
    s.install();
    // What makes `cargo xtask` a command: the alias (README, `cargo xtask migrate`).
    std::fs::create_dir_all(s.p.path().join(".cargo")).unwrap();
    std::fs::write(
        s.p.path().join(".cargo/config.toml"),
        "[alias]\nxtask = \"run --quiet --package xtask --\"\n",
    )
    .unwrap();
    let bin = tempfile::tempdir().unwrap();
    let cargo = bin.path().join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh\n[ \"$1\" = xtask ] || {{ echo \"unexpected: cargo $*\" >&2; exit 64; }}\nshift\nexec '{}' \"$@\"\n",
            xtask.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let p = s.p.migration("0002_orders.sql", ORDERS).commit();
    let s = Pushable { p, ..s };
    let git = std::env::var("PATH").unwrap_or_default();
    // git itself must stay reachable: it is wherever the test's PATH has it.
    let git_dir = git
        .split(':')
        .find(|d| Path::new(d).join("git").is_file())
        .unwrap_or("/usr/bin");
    let path = format!("{path}:{git_dir}");
    let out = s.git_env(&["push", "origin", "HEAD"], &[("PATH", &path)]);
    out.success();
    assert_proved(&out, &s.main);
    s.p.assert_no_test_db_branches();
}

/// No `NEON_MIGRATE_BIN`, no neon-migrate on PATH, a cargo but no `xtask` alias: the hook
/// says what is missing and how to fix it, not cargo's "no such command: `xtask`".
fn git_push_without_neon_migrate_or_an_xtask_says_what_is_missing_and_how_to_fix_it() {
    let s = Pushable::new("push_no_binary");
    s.install();
    let bin = tempfile::tempdir().unwrap();
    let cargo = bin.path().join("cargo");
    // What cargo says of a command it does not know.
    std::fs::write(
        &cargo,
        "#!/bin/sh\necho \"error: no such command: \\`$1\\`\" >&2\nexit 101\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let git = std::env::var("PATH").unwrap_or_default();
    let git_dir = git
        .split(':')
        .find(|d| Path::new(d).join("git").is_file())
        .unwrap_or("/usr/bin");
    let path = format!("{}:/usr/bin:/bin:{git_dir}", bin.path().display());
    let p = s.p.migration("0002_orders.sql", ORDERS).commit();
    let s = Pushable { p, ..s };
    let before = s.remote_sha(&s.main);
    let out = s.git_env(
        &["push", "origin", "HEAD"],
        &[("PATH", &path), ("CARGO_HOME", &bin.path().display().to_string())],
    );
    assert_ne!(out.code, 0, "the push must fail\n{}", *out);
    out.has("the pre-push hook cannot run neon-migrate: it is not on PATH")
        .has("no `xtask` alias in .cargo/config.toml")
        .has("cargo install --locked neon-migrate")
        .has("NEON_MIGRATE_BIN=/path/to/neon-migrate")
        .has("NEON_MIGRATE=0 git push")
        .lacks("no such command");
    assert_eq!(s.remote_sha(&s.main), before, "the remote is unchanged");
}

/// Pushes a new migration on `feature/<name>` with neon-migrate on PATH (as the snippets
/// expect it) and checks that it proved the migration.
fn push_feature_and_assert_proved(s: Pushable, name: &str, env: &[(&str, &str)]) {
    let git_branch = format!("feature/{name}");
    let p =
        s.p.git_branch(&git_branch)
            .migration("0002_orders.sql", ORDERS)
            .commit();
    let s = Pushable { p, ..s };
    let path = path_with(&[Path::new(BIN).parent().unwrap()]);
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "PATH") {
        env.push(("PATH", &path));
    }
    let out = s.git_env(&["push", "origin", &git_branch], &env);
    out.success()
        .has("1 watched file(s) changed: migrations/0002_orders.sql");
    assert_proved(&out, &git_branch);
    assert_eq!(s.remote_sha(&git_branch), s.p.git(&["rev-parse", "HEAD"]));
    s.p.assert_no_test_db_branches();
}

/// `dirs` in front of the test's PATH.
pub(crate) fn path_with(dirs: &[&Path]) -> String {
    let mut parts: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    parts.push(std::env::var("PATH").unwrap_or_default());
    parts.join(":")
}

/// Runs a hook manager's install command in the project.
#[track_caller]
pub(crate) fn manager_install(s: &Pushable, program: &Path, args: &[&str], env: &[(&str, &str)]) {
    let mut c = Command::new(program);
    c.args(args)
        .current_dir(s.p.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run the hook manager");
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A pushable project with husky's `.husky/pre-push`, husky installed (core.hooksPath
/// `.husky/_`).
pub fn with_husky(tag: &str) -> Pushable {
    let husky = manager(Manager::Husky);
    let s = Pushable::new(tag);
    let p = s.p.file(
        ".husky/pre-push",
        include_str!("../../examples/hook-managers/husky-pre-push"),
    );
    let s = Pushable { p, ..s };
    manager_install(&s, Path::new("node"), &[&husky.display().to_string()], &[]);
    s
}

/// A pushable project with `lefthook.yml`, lefthook's hooks installed; and the `PATH` on which
/// those hooks find lefthook and neon-migrate, as they would in node_modules/.bin.
pub fn with_lefthook(tag: &str) -> (Pushable, String) {
    let lefthook = manager(Manager::Lefthook);
    let s = Pushable::new(tag);
    let p = s.p.file(
        "lefthook.yml",
        include_str!("../../examples/hook-managers/lefthook.yml"),
    );
    let s = Pushable { p, ..s };
    manager_install(&s, &lefthook, &["install"], &[]);
    let path = path_with(&[Path::new(BIN).parent().unwrap(), lefthook.parent().unwrap()]);
    (s, path)
}

/// A pushable project with `.pre-commit-config.yaml` (committed and pushed), pre-commit's
/// pre-push hook installed with a home of its own: the folder and its path, for
/// `PRE_COMMIT_HOME`.
pub fn with_pre_commit(tag: &str) -> (Pushable, tempfile::TempDir, String) {
    let pre_commit = manager(Manager::PreCommit);
    let s = Pushable::new(tag);
    let p =
        s.p.file(
            ".pre-commit-config.yaml",
            include_str!("../../examples/hook-managers/pre-commit-config.yaml"),
        )
        .commit();
    let s = Pushable { p, ..s };
    s.git(&["push", "-q", "--no-verify", "origin", "HEAD"])
        .success();
    let home_dir = tempfile::tempdir().unwrap();
    let home = home_dir.path().display().to_string();
    manager_install(
        &s,
        &pre_commit,
        &["install", "--hook-type", "pre-push"],
        &[("PRE_COMMIT_HOME", home.as_str())],
    );
    (s, home_dir, home)
}

/// husky 9: `husky` sets core.hooksPath to `.husky/_`; the project's hook is `.husky/pre-push`.
fn husky_runs_neon_migrate_on_git_push() {
    let s = with_husky("husky");
    assert_eq!(
        s.git(&["config", "core.hooksPath"]).stdout.trim(),
        ".husky/_"
    );
    push_feature_and_assert_proved(s, "husky", &[]);
}

/// A new user of a husky project runs `neon-migrate hooks install`: core.hooksPath is husky's
/// generated `.husky/_`, which husky rewrites on every `npm install` (its `prepare`), so the
/// line goes to `.husky/pre-push`; the push is still proven after husky ran again.
fn hooks_install_under_husky_writes_husky_pre_push_which_survives_husky_rewriting_its_folder() {
    let husky = manager(Manager::Husky);
    let s = Pushable::new("husky_install");
    let node = Path::new("node");
    manager_install(&s, node, &[&husky.display().to_string()], &[]);
    s.p.run(&["hooks", "install"])
        .code(exit::OK)
        .stdout_has("wrote .husky/pre-push with `neon-migrate hook pre-push \"$@\"`");
    let script = std::fs::read_to_string(s.p.path().join(".husky/pre-push")).expect("script");
    assert_eq!(script, "neon-migrate hook pre-push \"$@\"\n");
    let generated = std::fs::read_to_string(s.p.path().join(".husky/_/pre-push")).unwrap();
    assert!(!generated.contains("neon-migrate"), "{generated}");
    s.p.run(&["hooks", "status"])
        .code(exit::OK)
        .stdout_has("husky          .husky/pre-push runs neon-migrate hook pre-push");
    // Again: nothing to add.
    s.p.run(&["hooks", "install"])
        .code(exit::OK)
        .stdout_has("already runs neon-migrate hook pre-push");
    // `npm install` runs husky again, which rewrites .husky/_.
    manager_install(&s, node, &[&husky.display().to_string()], &[]);
    let p = s.p.commit();
    let s = Pushable { p, ..s };
    push_feature_and_assert_proved(s, "husky-install", &[]);
}

/// `hooks uninstall` under husky takes our line out of `.husky/pre-push` and keeps the
/// project's own lines; a script that ran only neon-migrate goes.
fn hooks_uninstall_under_husky_removes_only_our_line() {
    let husky = manager(Manager::Husky);
    let s = Pushable::new("husky_uninstall");
    manager_install(&s, Path::new("node"), &[&husky.display().to_string()], &[]);
    let script = s.p.path().join(".husky/pre-push");
    std::fs::write(&script, "npm test\n").expect("write the project's own hook");
    s.p.run(&["hooks", "install"]).code(exit::OK);
    s.p.run(&["hooks", "uninstall"])
        .code(exit::OK)
        .stdout_has("removed `neon-migrate hook pre-push \"$@\"` from .husky/pre-push");
    assert_eq!(std::fs::read_to_string(&script).unwrap(), "npm test\n");
    s.p.run(&["hooks", "status"])
        .code(exit::OK)
        .stdout_has(".husky/pre-push does not run neon-migrate");
    // Installed into a fresh script, uninstalled: the script goes.
    std::fs::remove_file(&script).unwrap();
    s.p.run(&["hooks", "install"]).code(exit::OK);
    s.p.run(&["hooks", "uninstall"])
        .code(exit::OK)
        .stdout_has("removed .husky/pre-push (it ran only neon-migrate hook pre-push)");
    assert!(!script.exists());
}

/// lefthook: `lefthook install` writes its own hooks, which read `lefthook.yml`.
fn lefthook_runs_neon_migrate_on_git_push() {
    let (s, path) = with_lefthook("lefthook");
    push_feature_and_assert_proved(s, "lefthook", &[("PATH", &path)]);
}

/// pre-commit: reads the pushed refs itself and passes them in `PRE_COMMIT_*` variables.
fn pre_commit_runs_neon_migrate_on_git_push() {
    let (s, _home_dir, home) = with_pre_commit("pre_commit");
    push_feature_and_assert_proved(s, "pre-commit", &[("PRE_COMMIT_HOME", home.as_str())]);
}

/// A sub-project's config: the built-in `sql` tool over its own migrations/.
fn sub_config(p: &Project) -> String {
    format!(
        "[tool]\nname = \"sql\"\nmigrations-dir = \"migrations\"\n\n[provider]\nmain-database = \"{}\"\n",
        p.main_db()
    )
}

fn git_push_from_the_root_proves_every_config_below_it_that_the_push_changes() {
    let p = Project::new("push_monorepo");
    std::fs::remove_file(p.path().join("neon-migrate.toml")).expect("remove root config");
    let cfg = sub_config(&p);
    let p = p
        .file("backend/neon-migrate.toml", &cfg)
        .file("backend/migrations/0001_init.sql", INIT)
        .file("frontend/neon-migrate.toml", &cfg)
        .file(
            "frontend/migrations/0001_init.sql",
            "create table sessions (id bigint primary key);\n",
        )
        .commit();
    let s = Pushable::with(p);
    s.install();
    s.p.run(&["hooks", "status"])
        .code(exit::OK)
        .stdout_has("watches        backend/neon-migrate.toml: backend/migrations, backend/neon-migrate.toml")
        .stdout_has("watches        frontend/neon-migrate.toml: frontend/migrations, frontend/neon-migrate.toml");
    // One push changes both projects: both are proven.
    let p =
        s.p.file("backend/migrations/0002_orders.sql", ORDERS)
            .file(
                "frontend/migrations/0002_carts.sql",
                "create table carts (id bigint primary key);\n",
            )
            .commit();
    let s = Pushable { p, ..s };
    let out = s.git(&["push", "origin", "HEAD"]);
    out.success()
        .has("backend/neon-migrate.toml: 1 watched file(s) changed: backend/migrations/0002_orders.sql")
        .has("frontend/neon-migrate.toml: 1 watched file(s) changed: frontend/migrations/0002_carts.sql")
        .has("proving backend/neon-migrate.toml")
        .has("proving frontend/neon-migrate.toml")
        .has("applied 0002_orders.sql")
        .has("applied 0002_carts.sql");
    assert_eq!(out.all().matches("PASSED").count(), 2, "{}", *out);
    // A push that changes one proves only that one.
    let p =
        s.p.file("backend/migrations/0003_x.sql", "create table x ();\n")
            .commit();
    let s = Pushable { p, ..s };
    let out = s.git(&["push", "origin", "HEAD"]);
    out.success()
        .has("frontend/neon-migrate.toml: no watched path changed")
        .has("applied 0003_x.sql")
        .lacks("proving frontend/neon-migrate.toml");
    assert_eq!(s.remote_sha(&s.main), s.p.git(&["rev-parse", "HEAD"]));
    // A git branch that removes a project, pushed while another is checked out: nothing to
    // prove for the removed one, and the push goes through.
    let p = s.p.git_branch("feature/drop-frontend");
    std::fs::remove_file(p.path().join("frontend/neon-migrate.toml")).expect("rm");
    let p = p.commit();
    let s = Pushable { p, ..s };
    let main = s.main.clone();
    s.p.git(&["checkout", "-q", &main]);
    let out = s.git(&["push", "origin", "feature/drop-frontend"]);
    out.success()
        .has("frontend/neon-migrate.toml is not in the pushed commit; nothing to prove for it");
    s.p.assert_no_test_db_branches();
}

/// A migration "tool" that lives in the project's virtualenv (never committed): psql applies
/// db/*.sql and records each in shop_migrations.
pub(crate) const SHOP_MIGRATE: &str = r#"#!/bin/sh
set -e
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "create table if not exists shop_migrations (name text primary key)"
for f in db/*.sql; do
  n=$(basename "$f")
  if [ -z "$(psql "$DATABASE_URL" -tAc "select 1 from shop_migrations where name = '$n'")" ]; then
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -1 -f "$f" -c "insert into shop_migrations values ('$n')"
    echo "applied $n"
  fi
done
"#;

fn git_push_in_a_temporary_worktree_borrows_the_dependency_folders_and_a_missing_tool_is_not_blamed_on_the_migration() {
    let p = Project::new("push_deps")
        .config(
            r#"[tool]
name = "shop"
command = ".venv/bin/shop-migrate"
watch = ["db"]
tracking-query = "select name from shop_migrations order by name"
migration-files = ["db/*.sql"]
"#,
        )
        .file(".gitignore", ".venv\n")
        .file("db/0001_init.sql", INIT)
        .commit();
    let s = Pushable::with(p);
    s.install();
    let p =
        s.p.git_branch("feature/orders")
            .file("db/0002_orders.sql", ORDERS)
            .commit();
    let s = Pushable { p, ..s };
    let main = s.main.clone();
    s.p.git(&["checkout", "-q", &main]);
    // No virtualenv anywhere yet: the tool cannot start, and the migration is not blamed.
    let out = s.git(&["push", "origin", "feature/orders"]);
    assert_ne!(out.code, 0, "the push must fail\n{}", *out);
    out.has("could not start")
        .has("the migration tool could not start, so nothing is known about the migration")
        .lacks("fix the migration");
    assert_eq!(s.remote_sha("feature/orders"), "");
    // The checked-out tree has the virtualenv: the temporary worktree borrows it.
    let bin = s.p.path().join(".venv/bin");
    std::fs::create_dir_all(&bin).expect("venv");
    std::fs::write(bin.join("shop-migrate"), SHOP_MIGRATE).expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        bin.join("shop-migrate"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let out = s.git(&["push", "origin", "feature/orders"]);
    out.success()
        .has("proving it in a temporary worktree")
        .has("using the checked-out tree's .venv")
        .has("applied 0002_orders.sql");
    assert_proved(&out, "feature/orders");
    // The link went with the worktree; the virtualenv stayed.
    assert!(bin.join("shop-migrate").is_file());
    assert_eq!(s.p.git(&["worktree", "list"]).lines().count(), 1);
    s.p.assert_no_test_db_branches();
}

fn git_push_removes_the_worktree_a_killed_hook_left_and_keeps_a_live_one() {
    let s = Pushable::new("push_prune");
    s.install();
    // A hook killed with SIGKILL leaves its worktree registered: its process is gone.
    let dead = {
        let mut c = Command::new("true").spawn().expect("spawn true");
        let pid = c.id();
        c.wait().expect("wait");
        pid
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let stale = tmp.path().join(format!("neon-migrate-push-abcdef1-{dead}"));
    let live = tmp
        .path()
        .join(format!("neon-migrate-push-abcdef1-{}", std::process::id()));
    for wt in [&stale, &live] {
        s.p.git(&[
            "worktree",
            "add",
            "--detach",
            "-q",
            &wt.display().to_string(),
            "HEAD",
        ]);
    }
    assert_eq!(s.p.git(&["worktree", "list"]).lines().count(), 3);
    let p = s.p.file("README.md", "docs only\n").commit();
    let s = Pushable { p, ..s };
    let out = s.git(&["push", "origin", "HEAD"]);
    out.success()
        .has("removed 1 temporary worktree(s) left by an interrupted push");
    assert!(!stale.exists(), "the stale worktree is gone");
    assert!(live.exists(), "a running hook's worktree stays");
    let list = s.p.git(&["worktree", "list"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    s.p.git(&["worktree", "remove", "--force", &live.display().to_string()]);
}
