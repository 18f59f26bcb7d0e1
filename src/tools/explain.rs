//! What `plan` says about the migration tool: why this tool, the exact commands, where the
//! connection string goes, what is watched and how the run is confirmed.

use std::path::Path;

use serde_json::{json, Value};

use crate::config::{CommandSpec, Config, ToolKind, ToolOrigin, UrlFormat};
use crate::tools::handoff::{self, Source};

fn relative(path: &Path, root: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(r) if r.as_os_str().is_empty() => ".".into(),
        Ok(r) => r.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

fn why(origin: &ToolOrigin) -> (String, &'static str) {
    let list = |ev: &[crate::tools::detect::Evidence]| {
        ev.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match origin {
        ToolOrigin::Config { evidence } if evidence.is_empty() => {
            ("set in neon-migrate.toml".into(), "config")
        }
        ToolOrigin::Config { evidence } => (
            format!("set in neon-migrate.toml; its files: {}", list(evidence)),
            "config",
        ),
        ToolOrigin::Detected { evidence } => {
            (format!("detected from {}", list(evidence)), "detected")
        }
        ToolOrigin::Default { note } => (note.clone(), "default"),
    }
}

/// `(label, value)` lines for the text plan.
pub fn lines(config: &Config) -> Vec<(String, String)> {
    let t = &config.tool;
    let mut out = Vec::new();
    let title = t
        .title
        .as_ref()
        .filter(|title| **title != t.name)
        .map(|title| format!(" ({title})"))
        .unwrap_or_default();
    out.push(("tool".into(), format!("{}{title}", t.name)));
    out.push(("  why".into(), why(&t.origin).0));
    let cmd = |c: &Option<CommandSpec>| c.as_ref().map(CommandSpec::display);
    match &t.kind {
        ToolKind::Sql { migrations_dir } => {
            out.push((
                "  applies".into(),
                format!(
                    "{}/*.sql (built in)",
                    relative(migrations_dir, &config.root)
                ),
            ));
        }
        ToolKind::Command { apply } => {
            let wd = relative(&t.working_dir, &config.root);
            let place = if wd == "." {
                String::new()
            } else {
                format!(" (in {wd})")
            };
            out.push(("  apply".into(), format!("{}{place}", apply.display())));
            if let Some(venv) = crate::tools::command::project_venv(&t.working_dir) {
                out.push((
                    "  virtualenv".into(),
                    format!(
                        "{} (its bin first on the tool's PATH)",
                        relative(&venv, &config.root)
                    ),
                ));
            }
            if let Some(main) = cmd(&t.apply_command) {
                out.push(("  apply on main".into(), main));
            }
            out.push((
                "  down".into(),
                cmd(&t.down_command).unwrap_or_else(|| "none".into()),
            ));
            out.push((
                "  print SQL".into(),
                cmd(&t.print_sql_command).unwrap_or_else(|| "none".into()),
            ));
            if t.models.is_some() || t.model_check_command.is_some() {
                out.push((
                    "  model check".into(),
                    cmd(&t.model_check_command)
                        .unwrap_or_else(|| "none: the `models` check is NOT RUN".into()),
                ));
            }
            let plan = handoff::Plan::new(t, &t.working_dir);
            let mut named: Vec<String> = plan.explicit.iter().map(|e| e.name.clone()).collect();
            let mut switches = Vec::new();
            for e in &plan.base {
                if let Source::Referenced(file) = &e.source {
                    match &e.value {
                        handoff::Value::Switch(v) => switches.push(format!(
                            "{}={v} (read by {file}: this value selects Postgres)",
                            e.name
                        )),
                        _ if !named.contains(&e.name) => {
                            named.push(format!("{} (read by {file})", e.name))
                        }
                        _ => {}
                    }
                }
            }
            let form = match t.handoff.format {
                UrlFormat::Url => "postgresql://".to_owned(),
                UrlFormat::Sqlalchemy => match &plan.driver {
                    Some(d) => format!("postgresql+{d}://"),
                    None => "postgresql://".to_owned(),
                },
                UrlFormat::Jdbc => "jdbc:postgresql://, user and password apart".to_owned(),
            };
            let dropped = if t.handoff.drop_params.is_empty() {
                String::new()
            } else {
                format!(", without {}", t.handoff.drop_params.join(", "))
            };
            out.push((
                "  connection".into(),
                format!(
                    "{} ({form}, direct host{dropped}); also DATABASE_URL, DIRECT_URL, PGHOST… and DB_HOST… aliases",
                    named.join(", ")
                ),
            ));
            if !switches.is_empty() {
                out.push(("  switches".into(), switches.join(", ")));
            }
            if !plan.unknown_switches.is_empty() {
                let names: Vec<String> = plan
                    .unknown_switches
                    .iter()
                    .map(|(n, f)| format!("{n} (read by {f})"))
                    .collect();
                out.push((
                    "  switch unknown".into(),
                    format!(
                        "{}: seems to choose the database, but no file says which value selects Postgres; set it under [tool.env]",
                        names.join(", ")
                    ),
                ));
            }
            if !plan.left_alone.is_empty() {
                let names: Vec<&str> = plan.left_alone.iter().map(|(n, _)| n.as_str()).collect();
                out.push((
                    "  not set".into(),
                    format!("{} (not about the database)", names.join(", ")),
                ));
            }
        }
    }
    out.push((
        "  watches".into(),
        match &t.watch {
            Some(paths) => paths
                .iter()
                .map(|p| relative(p, &config.root))
                .collect::<Vec<_>>()
                .join(", "),
            None => "every path (the tool's inputs are unknown: set `watch` under [tool])".into(),
        },
    ));
    if let Some(tr) = &t.tracking {
        out.push(("  confirms with".into(), tr.query.clone()));
    }
    out
}

/// The `migration_tool` object of `plan --json`.
pub fn json(config: &Config) -> Value {
    let t = &config.tool;
    let (why, origin) = why(&t.origin);
    let evidence: Vec<Value> = match &t.origin {
        ToolOrigin::Config { evidence } | ToolOrigin::Detected { evidence } => {
            evidence.iter().map(|e| json!(e)).collect()
        }
        ToolOrigin::Default { .. } => Vec::new(),
    };
    let cmd = |c: &Option<CommandSpec>| c.as_ref().map(CommandSpec::display);
    let mut v = json!({
        "name": t.name,
        "title": t.title,
        "origin": origin,
        "why": why,
        "evidence": evidence,
        "working_dir": relative(&t.working_dir, &config.root),
        "watch": t.watch.as_ref().map(|w| w.iter().map(|p| relative(p, &config.root)).collect::<Vec<_>>()),
        "tracking_query": t.tracking.as_ref().map(|tr| tr.query.clone()),
        "migration_files": t.tracking.as_ref().map(|tr| tr.migration_files.clone()),
    });
    if let ToolKind::Command { apply } = &t.kind {
        let plan = handoff::Plan::new(t, &t.working_dir);
        v["command"] = json!(apply.display());
        v["apply_command"] = json!(cmd(&t.apply_command));
        v["down_command"] = json!(cmd(&t.down_command));
        v["print_sql_command"] = json!(cmd(&t.print_sql_command));
        v["model_check_command"] = json!(cmd(&t.model_check_command));
        v["connection"] = json!({
            "format": t.handoff.format,
            "driver": plan.driver,
            "drop_url_params": t.handoff.drop_params,
            "variables": plan.base.iter().chain(&plan.explicit).collect::<Vec<_>>(),
            "left_alone": plan.left_alone.iter().map(|(n, f)| json!({"name": n, "file": f})).collect::<Vec<_>>(),
            "unknown_switches": plan.unknown_switches.iter().map(|(n, f)| json!({"name": n, "file": f})).collect::<Vec<_>>(),
        });
    }
    v
}
