//! `neon-migrate rollback`: undo an apply on the main Neon database branch.
//!
//! Two ways back, and the command always says which it will take before doing anything:
//! restore main from a restore point (the default; the current state is kept as a Neon
//! database branch for 7 days), or run the tool's down migrations (`--down`, built-in `sql`
//! tool). It asks for confirmation unless `--yes`; without a terminal it refuses to guess.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;

use crate::cli::open_provider;
use crate::config::{self, Config};
use crate::exit;
use crate::pg;
use crate::providers::{DbBranchInfo, RESTORE_PREFIX};
use crate::secret::Redactor;
use crate::tools::sql;

fn confirm(yes: bool) -> Result<bool, i32> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "error: rollback needs confirmation\n  help: run it in a terminal, or pass `--yes`"
        );
        return Err(exit::USAGE);
    }
    print!("Type `yes` to continue: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    Ok(line.trim() == "yes")
}

/// Runs `rollback`; returns the exit code.
pub async fn run(config: &Config, to: Option<&str>, down: bool, steps: usize, yes: bool) -> i32 {
    let redactor = Redactor::new();
    let provider = match open_provider(config, &redactor).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };
    let main = match provider.main_db_branch().await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };

    if down {
        let config::ToolKind::Sql { migrations_dir } = &config.tool.kind else {
            eprintln!("error: `--down` runs the built-in `sql` tool's down migrations; this project uses `{}`\n  help: roll back from a restore point instead (without `--down`)", config.tool.name);
            return exit::USAGE;
        };
        let client = match pg::connect(&main.url).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {}", redactor.redact(&e.message));
                return exit::PROVIDER;
            }
        };
        let applied = match sql::applied(&client).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {}", e.message);
                return exit::PROVIDER;
            }
        };
        let last: Vec<String> = applied
            .iter()
            .rev()
            .take(steps)
            .map(|(_, f, _)| f.clone())
            .collect();
        if last.is_empty() {
            println!("nothing to roll back: no migration is recorded on the main Neon database branch {}", main.name);
            return exit::OK;
        }
        let missing: Vec<&String> = last
            .iter()
            .filter(|f| !sql::down_path(migrations_dir, f).is_file())
            .collect();
        if !missing.is_empty() {
            eprintln!("error: no down migration for {}\n  help: roll back from a restore point instead (without `--down`)", missing.iter().map(|f| sql::down_name(f)).collect::<Vec<_>>().join(", "));
            return exit::USAGE;
        }
        println!("This runs, on the main Neon database branch {}:", main.name);
        for f in &last {
            println!("  {}", sql::down_name(f));
        }
        match confirm(yes) {
            Ok(true) => {}
            Ok(false) => {
                println!("cancelled");
                return exit::OK;
            }
            Err(code) => return code,
        }
        let mut in_order = last.clone();
        in_order.reverse();
        return match sql::revert(migrations_dir, &main.url, &in_order).await {
            Ok(done) => {
                println!("rolled back: {}", done.join(", "));
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {}", redactor.redact(&e.message));
                exit::MIGRATION_FAILED
            }
        };
    }

    let points: Vec<DbBranchInfo> = match provider.list().await {
        Ok(l) => l
            .into_iter()
            .filter(|b| b.name.starts_with(RESTORE_PREFIX))
            .collect(),
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            return exit::PROVIDER;
        }
    };
    let chosen = match to {
        Some(name) => points.iter().find(|p| p.name == name || p.id == name),
        None => points.iter().max_by_key(|p| p.created_at),
    };
    let Some(point) = chosen else {
        let list = points
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        eprintln!(
            "error: no restore point {}\n  help: restore points are created by `apply` (see `restore-point` under [apply]); existing: {}",
            to.map(|t| format!("named `{t}`")).unwrap_or_default(),
            if list.is_empty() { "none".into() } else { list }
        );
        return exit::USAGE;
    };
    let keep = crate::naming::sanitize(
        &format!(
            "{}-before-rollback-{}",
            main.name,
            Utc::now().format("%Y%m%d-%H%M%S")
        ),
        63,
    );
    println!(
        "This restores the main Neon database branch {} from restore point {}",
        main.name, point.name
    );
    println!(
        "  created {} on git branch {} at {}",
        crate::providers::local::rfc3339(point.created_at),
        point.git_branch,
        &point.git_sha[..point.git_sha.len().min(7)]
    );
    println!("  every change made to {} since then is undone; its current state is kept as {keep} (7 days)", main.name);
    println!("  sessions connected to {} are ended", main.name);
    match confirm(yes) {
        Ok(true) => {}
        Ok(false) => {
            println!("cancelled");
            return exit::OK;
        }
        Err(code) => return code,
    }
    match provider.restore_main(point, &keep).await {
        Ok(()) => {
            println!(
                "restored {} from {}; the previous state is {keep}",
                main.name, point.name
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.message));
            if let Some(h) = e.help {
                eprintln!("  help: {h}");
            }
            exit::PROVIDER
        }
    }
}
