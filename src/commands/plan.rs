//! `neon-migrate plan <PIPELINE>`: what `run` would do, without touching any database.

use crate::app::SetupError;
use crate::config::{self, Config, StageKind};
use crate::engine;
use crate::exit::{self, Failure};
use crate::git::GitInfo;
use crate::report;

use super::Context;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum PlanError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),
    #[error("cannot name the test Neon database branch: {0}")]
    Name(String),
}

impl Failure for PlanError {
    fn exit_code(&self) -> i32 {
        match self {
            PlanError::Setup(e) => e.exit_code(),
            PlanError::Name(_) => exit::CONFIG,
        }
    }
    fn rendered(&self) -> Option<String> {
        match self {
            PlanError::Setup(e) => e.rendered(),
            PlanError::Name(_) => None,
        }
    }
}

pub(crate) fn run(cx: &Context, pipeline: &str, json: bool) -> Result<i32, PlanError> {
    let (config, git) = cx.setup()?;
    let Some(p) = config.pipelines.get(pipeline) else {
        return Err(SetupError::unknown_pipeline(&config, pipeline).into());
    };
    let vars = engine::base_vars(&git, pipeline);
    let name =
        engine::db_branch_name(&config, &vars).map_err(|e| PlanError::Name(e.to_string()))?;
    if json {
        print_json(&config, &git, p, &name);
    } else {
        print_text(&config, &git, p, &name);
    }
    Ok(exit::OK)
}

fn print_json(config: &Config, git: &GitInfo, p: &config::Pipeline, name: &str) {
    let ttl = config::duration::format(config.db_branch.ttl);
    let stages: Vec<serde_json::Value> = p
        .stages
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "kind": s.kind.as_str(),
                "always": s.always,
                "description": describe_stage(config, &s.kind),
            })
        })
        .collect();
    let v = serde_json::json!({
        "schema_version": report::SCHEMA_VERSION,
        "pipeline": p.name,
        "origin": p.origin,
        "git": { "branch": git.branch, "sha": git.sha, "detached": git.detached },
        "neon_database_branch": { "name": name, "ttl": ttl },
        "provider": config.provider.kind(),
        "tool": config.tool.name,
        "migration_tool": crate::tools::explain::json(config),
        "stages": stages,
    });
    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
}

fn print_text(config: &Config, git: &GitInfo, p: &config::Pipeline, name: &str) {
    let ttl = config::duration::format(config.db_branch.ttl);
    let detached = if git.detached {
        " (detached HEAD: the short sha stands in for the git branch)"
    } else {
        ""
    };
    println!(
        "pipeline `{}` ({}){}",
        p.name,
        p.origin,
        if p.description.is_empty() {
            String::new()
        } else {
            format!(": {}", p.description)
        }
    );
    println!("  git branch            {}{detached}", git.branch);
    println!("  commit                {}", git.sha);
    println!("  Neon database branch  {name} (TTL {ttl})");
    for (label, value) in crate::tools::explain::lines(config) {
        println!("  {label:<22}{value}");
    }
    println!("  provider              {}", config.provider.kind());
    println!("  stages:");
    for (i, s) in p.stages.iter().enumerate() {
        let always = if s.always { " [always runs]" } else { "" };
        println!(
            "    {}. {:<30} {}{always}",
            i + 1,
            s.name,
            describe_stage(config, &s.kind)
        );
    }
}

fn describe_stage(config: &Config, kind: &StageKind) -> String {
    match kind {
        StageKind::CreateDbBranch => {
            "create a test Neon database branch from the main Neon database branch".into()
        }
        StageKind::Migrate => format!(
            "run `{}` on the test Neon database branch",
            config.tool.name
        ),
        StageKind::Checks => format!(
            "run {} SQL check(s) on the test Neon database branch",
            config.sql_checks.len()
        ),
        StageKind::DeleteDbBranch => "delete the test Neon database branch".into(),
        StageKind::Apply => format!(
            "run `{}` on the main Neon database branch, if every earlier stage passed",
            config.tool.name
        ),
        StageKind::Shell(s) => format!("run `{}`", s.run.display()),
    }
}
