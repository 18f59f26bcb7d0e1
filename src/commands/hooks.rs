//! `neon-migrate hooks install | uninstall | status`: the git pre-push hook that runs the
//! `pre-push` pipeline.

use std::path::Path;

use git2::Repository;

use crate::app::SetupError;
use crate::exit::{self, Failure};
use crate::hooks::{
    self, binary_lookup, fingerprint_version, hook_manager, husky_script, old_path, open_hooks,
    shown, state_of, HookState, HooksError, HOOK, HUSKY_LINE, SCRIPT,
};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum HooksCommandError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Hooks(#[from] HooksError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),
    #[error("{hook} is not neon-migrate's, and {old} exists already; nothing changed")]
    #[diagnostic(help(
        "merge or remove one of them, then run `neon-migrate hooks install` again"
    ))]
    ForeignAndOld { hook: String, old: String },
    /// A file operation on a hook failed: what (`move … aside`, `write …`), and why.
    #[error("cannot {what}: {source}")]
    File {
        what: String,
        source: std::io::Error,
    },
}

impl Failure for HooksCommandError {
    fn exit_code(&self) -> i32 {
        match self {
            HooksCommandError::Hooks(e) => e.exit_code(),
            HooksCommandError::Setup(e) => e.exit_code(),
            HooksCommandError::ForeignAndOld { .. } => exit::CONFIG,
            HooksCommandError::File { .. } => exit::INTERNAL,
        }
    }
    fn rendered(&self) -> Option<String> {
        match self {
            HooksCommandError::Setup(e) => e.rendered(),
            _ => None,
        }
    }
}

/// A failed file operation: `what` names it, as in "cannot write .git/hooks/pre-push".
fn file_error(what: String) -> impl FnOnce(std::io::Error) -> HooksCommandError {
    move |source| HooksCommandError::File { what, source }
}

/// `hooks install`.
pub(crate) fn install(cwd: &Path) -> Result<i32, HooksCommandError> {
    let (repo, dir) = open_hooks(cwd)?;
    if let Some(script) = husky_script(&dir) {
        return install_husky(&repo, &script);
    }
    let hook = dir.path.join(HOOK);
    let old = old_path(&hook);
    let state = state_of(&hook);
    if state == HookState::Foreign {
        keep_foreign(&repo, &hook, &old)?;
    }
    if state == HookState::Current {
        println!("{} is installed and current", shown(&hook, &repo));
        return Ok(exit::OK);
    }
    hooks::write_script(&hook).map_err(file_error(format!("write {}", shown(&hook, &repo))))?;
    let how = match state {
        HookState::Outdated(v) => format!("updated {} (was {v})", shown(&hook, &repo)),
        _ => format!("installed {}", shown(&hook, &repo)),
    };
    let via = if dir.from_config {
        " (core.hooksPath)"
    } else {
        ""
    };
    println!("{how}{via}; bypass it once with NEON_MIGRATE=0 git push");
    Ok(exit::OK)
}

/// Moves somebody else's hook aside as `pre-push.old` (our script runs it first).
fn keep_foreign(repo: &Repository, hook: &Path, old: &Path) -> Result<(), HooksCommandError> {
    if old.exists() {
        return Err(HooksCommandError::ForeignAndOld {
            hook: shown(hook, repo),
            old: shown(old, repo),
        });
    }
    std::fs::rename(hook, old).map_err(file_error(format!("move {} aside", shown(hook, repo))))?;
    println!(
        "kept the existing hook as {}; it still runs first",
        shown(old, repo)
    );
    let text = std::fs::read_to_string(old).unwrap_or_default();
    if let Some(m) = hook_manager(&text) {
        println!("  note: it looks like {m}'s hook; README § Hook managers shows how to call neon-migrate from {m} instead");
    }
    Ok(())
}

/// Adds the neon-migrate line to husky's `.husky/pre-push` (creating it if needed).
fn install_husky(repo: &Repository, script: &Path) -> Result<i32, HooksCommandError> {
    let text = std::fs::read_to_string(script).unwrap_or_default();
    let shown_script = shown(script, repo);
    if text.contains("neon-migrate hook pre-push") {
        println!("{shown_script} already runs neon-migrate hook pre-push (husky runs it before each push)");
        return Ok(exit::OK);
    }
    let mut new = text.clone();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(HUSKY_LINE);
    new.push('\n');
    std::fs::write(script, new).map_err(file_error(format!("write {shown_script}")))?;
    println!(
        "husky runs this repository's hooks (core.hooksPath = .husky/_, rewritten by every `npm install`):\n\
         {} {shown_script} with `{HUSKY_LINE}`, which husky runs before each push; commit it so everyone's pushes are proven\n\
         bypass it once with NEON_MIGRATE=0 git push",
        if text.is_empty() { "wrote" } else { "appended to" }
    );
    Ok(exit::OK)
}

/// `hooks uninstall`: removes our hook and puts a kept `.old` one back.
pub(crate) fn uninstall(cwd: &Path) -> Result<i32, HooksCommandError> {
    let (repo, dir) = open_hooks(cwd)?;
    if let Some(script) = husky_script(&dir) {
        return uninstall_husky(&repo, &script);
    }
    let hook = dir.path.join(HOOK);
    let old = old_path(&hook);
    match state_of(&hook) {
        HookState::Absent => println!("no {HOOK} hook in {}", shown(&dir.path, &repo)),
        HookState::Foreign => {
            println!("{} is not neon-migrate's; left alone", shown(&hook, &repo));
            return Ok(exit::OK);
        }
        HookState::Current | HookState::Outdated(_) => {
            std::fs::remove_file(&hook)
                .map_err(file_error(format!("remove {}", shown(&hook, &repo))))?;
            println!("removed {}", shown(&hook, &repo));
        }
    }
    if old.exists() && !hook.exists() {
        std::fs::rename(&old, &hook)
            .map_err(file_error(format!("restore {}", shown(&old, &repo))))?;
        println!("restored {} as {}", shown(&old, &repo), shown(&hook, &repo));
    }
    Ok(exit::OK)
}

/// Takes our line out of husky's `.husky/pre-push`; a script left with nothing to run goes.
fn uninstall_husky(repo: &Repository, script: &Path) -> Result<i32, HooksCommandError> {
    let shown_script = shown(script, repo);
    let text = match std::fs::read_to_string(script) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("no {shown_script}: husky runs no pre-push hook, nothing to remove");
            return Ok(exit::OK);
        }
        Err(e) => return Err(file_error(format!("read {shown_script}"))(e)),
    };
    let kept: Vec<&str> = text.lines().filter(|l| l.trim() != HUSKY_LINE).collect();
    if kept.len() == text.lines().count() {
        println!("{shown_script} does not run neon-migrate hook pre-push; left alone");
        return Ok(exit::OK);
    }
    if kept
        .iter()
        .all(|l| l.trim().is_empty() || l.starts_with("#!"))
    {
        std::fs::remove_file(script).map_err(file_error(format!("remove {shown_script}")))?;
        println!("removed {shown_script} (it ran only neon-migrate hook pre-push)");
    } else {
        let mut new = kept.join("\n");
        new.push('\n');
        std::fs::write(script, new).map_err(file_error(format!("write {shown_script}")))?;
        println!("removed `{HUSKY_LINE}` from {shown_script}; its other lines are kept");
    }
    Ok(exit::OK)
}

/// `hooks status`: where the hook is, whether it is ours and current, what it would run and
/// which paths it watches.
pub(crate) fn status(cwd: &Path, explicit_config: Option<&Path>) -> Result<i32, HooksCommandError> {
    let (repo, dir) = open_hooks(cwd)?;
    let hook = dir.path.join(HOOK);
    let via = if dir.from_config {
        "core.hooksPath"
    } else {
        "default; core.hooksPath unset"
    };
    println!("hooks folder   {} ({via})", shown(&dir.path, &repo));
    println!("{HOOK:<14} {}", describe_state(&hook));
    if let Some(script) = husky_script(&dir) {
        let text = std::fs::read_to_string(&script).unwrap_or_default();
        let calls = if text.contains("neon-migrate hook pre-push") {
            "runs neon-migrate hook pre-push before each push"
        } else {
            "does not run neon-migrate (run `neon-migrate hooks install`)"
        };
        println!("husky          {} {calls}", shown(&script, &repo));
    }
    let old = old_path(&hook);
    if old.exists() {
        println!("kept hook      {} (runs first)", shown(&old, &repo));
    }
    println!("runs           {}", binary_lookup());
    if let Some(root) = repo.workdir().map(Path::to_owned) {
        let projects = hooks::projects::projects(&repo, explicit_config, cwd, &root)?;
        // One line per project; a project below the root is named first.
        for p in &projects {
            println!("watches        {}{}", p.label(), p.watched.describe());
            let missing =
                hooks::projects::missing_watched(p, &p.watched, |rel| root.join(rel).exists());
            if !missing.is_empty() {
                println!(
                    "NOT WATCHED    {}{} does not exist here: every push is proved whatever it changes until `watch` under [tool] names where the migrations are",
                    p.label(),
                    missing.join(", ")
                );
            }
        }
    }
    Ok(exit::OK)
}

/// The hook file's state, in words.
fn describe_state(hook: &Path) -> String {
    match state_of(hook) {
        HookState::Absent => "not installed (run `neon-migrate hooks install`)".to_owned(),
        HookState::Current => format!(
            "installed, v{} (current)",
            fingerprint_version(SCRIPT).unwrap_or("?")
        ),
        HookState::Outdated(v) => {
            format!("installed, {v}: outdated (run `neon-migrate hooks install` to update)")
        }
        HookState::Foreign => {
            let text = std::fs::read_to_string(hook).unwrap_or_default();
            match hook_manager(&text) {
                Some(m) => format!("{m}'s hook, not neon-migrate's (see README § Hook managers)"),
                None => "a hook that is not neon-migrate's".to_owned(),
            }
        }
    }
}
