//! `[tool]`: the migration tool — named or detected, its preset under the project's keys —
//! and how the connection string reaches it.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{span, Validator};
use crate::config::diag::{self, Problem};
use crate::config::raw::{RawCommand, RawTool, S};
use crate::config::{
    CommandSpec, Handoff, ToolConfig, ToolKind, ToolOrigin, Tracking, UrlFormat,
    DEFAULT_TOOL_TIMEOUT,
};
use crate::template::Scope;
use crate::tools::detect::Tree;
use crate::tools::presets::{self, Resolved};

impl Validator<'_> {
    /// `[tool]`: the preset named (or detected), with the project's keys over it.
    pub(super) fn tool(&mut self, user: Option<RawTool>, root: &Path) -> ToolConfig {
        let table_span = self.key_at(&["tool"]);
        let user = user.unwrap_or_default();
        let working_dir = match &user.working_dir {
            Some(d) => root.join(d.get_ref()),
            None => root.to_owned(),
        };
        let tree = Tree::new(&working_dir);
        let name = user.name.as_ref().map(|n| n.get_ref().clone());
        let (preset, origin) = self.tool_preset(name, &tree, &working_dir, &table_span);
        let (title, install, failure_hints) = match &preset {
            Some(p) => (
                Some(p.title.clone()),
                p.install.clone(),
                p.failure_hints.clone(),
            ),
            None => (None, None, Vec::new()),
        };
        let rt = match &preset {
            Some(p) => {
                let mut base: RawTool = toml::to_string(&p.tool)
                    .ok()
                    .and_then(|t| toml::from_str(&t).ok())
                    .unwrap_or_else(|| panic!("preset `{}` has a valid [tool] (tested)", p.name));
                base.name = Some(S::new(0..0, p.name.to_owned()));
                user.over(base)
            }
            None => user,
        };
        let tool_name = rt
            .name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| "sql".into());
        let name_span = rt.name.as_ref().map(span).unwrap_or(table_span);
        let is_sql = tool_name == "sql";
        if is_sql {
            self.sql_tool_takes_no_commands(&rt);
        }
        let kind = self.tool_kind(&rt, &tool_name, name_span, root);
        let mut optional = |c: &Option<S<RawCommand>>, what: &str| {
            c.as_ref()
                .filter(|_| !is_sql)
                .map(|c| self.command(c, Scope::Command, what))
        };
        let apply_command = optional(&rt.apply_command, "tool.apply-command");
        let down_command = optional(&rt.down_command, "tool.down-command");
        let print_sql_command = optional(&rt.print_sql_command, "tool.print-sql-command");
        let handoff = self.handoff(&rt);
        let watch = watch(&rt, &kind, &tree, &working_dir);
        let tracking = rt.tracking_query.as_ref().map(|q| Tracking {
            query: q.get_ref().clone(),
            migration_files: strings(&rt.migration_files).unwrap_or_default(),
        });
        let timeout = self.timeout(&rt.timeout, "tool.timeout", DEFAULT_TOOL_TIMEOUT);
        let env = self.env(&rt.env, &["tool", "env"]);
        ToolConfig {
            name: tool_name,
            title,
            install,
            failure_hints,
            origin,
            kind,
            working_dir,
            timeout,
            env,
            apply_command,
            down_command,
            print_sql_command,
            handoff,
            watch,
            tracking: tracking.filter(|_| !is_sql),
        }
    }

    /// The preset of the tool `name`, or of the tool the project's files show, and why.
    fn tool_preset(
        &mut self,
        name: Option<String>,
        tree: &Tree,
        working_dir: &Path,
        table_span: &Range<usize>,
    ) -> (Option<Resolved>, ToolOrigin) {
        match name {
            Some(name) => {
                let resolved = presets::get(&name).map(|p| p.resolve(tree));
                let evidence = resolved
                    .as_ref()
                    .map(|r| r.evidence.clone())
                    .unwrap_or_default();
                (resolved, ToolOrigin::Config { evidence })
            }
            None => {
                let candidates = presets::detect(tree);
                match candidates.as_slice() {
                    [] => {
                        let note = if working_dir.join("migrations").is_dir() {
                            "no other migration tool detected: the built-in `sql` tool applies migrations/*.sql".to_owned()
                        } else {
                            presets::NONE_FOUND_HELP.to_owned()
                        };
                        (
                            presets::get("sql").map(|p| p.resolve(tree)),
                            ToolOrigin::Default { note },
                        )
                    }
                    [one] => {
                        let resolved = presets::get(one.name).map(|p| p.resolve(tree));
                        (
                            resolved,
                            ToolOrigin::Detected {
                                evidence: one.evidence.clone(),
                            },
                        )
                    }
                    many => {
                        let (message, help) = presets::ambiguity(many);
                        self.push(
                            Problem::new("config::tool", table_span.clone(), message)
                                .label("more than one candidate")
                                .help(help),
                        );
                        (
                            presets::get("sql").map(|p| p.resolve(tree)),
                            ToolOrigin::Default {
                                note: "more than one migration tool detected".into(),
                            },
                        )
                    }
                }
            }
        }
    }

    fn sql_tool_takes_no_commands(&mut self, rt: &RawTool) {
        for (key, c) in [
            ("command", &rt.command),
            ("apply-command", &rt.apply_command),
            ("down-command", &rt.down_command),
            ("print-sql-command", &rt.print_sql_command),
        ] {
            if let Some(c) = c {
                self.push(
                    Problem::new(
                        "config::tool",
                        span(c),
                        format!("the built-in `sql` tool takes no `{key}`"),
                    )
                    .help(if key == "command" {
                        "remove `command`, or set `name` to your tool's name to run a command"
                    } else {
                        "remove it: the `sql` tool applies the same files to the main Neon database branch, and reverts with its own NNNN_name.down.sql files"
                    }),
                );
            }
        }
    }

    /// What runs the migrations: the built-in `sql` tool, or the tool's command.
    fn tool_kind(
        &mut self,
        rt: &RawTool,
        tool_name: &str,
        name_span: Range<usize>,
        root: &Path,
    ) -> ToolKind {
        if tool_name == "sql" {
            let dir = rt
                .migrations_dir
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_else(|| "migrations".into());
            ToolKind::Sql {
                migrations_dir: root.join(dir),
            }
        } else {
            match &rt.command {
                Some(c) => ToolKind::Command {
                    apply: self.command(c, Scope::Command, "tool.command"),
                },
                None => {
                    let mut known = presets::names();
                    known.retain(|n| *n != "sql");
                    let near = diag::suggest(tool_name, "tool presets", &known);
                    self.push(
                        Problem::new("config::tool", name_span, format!("tool `{tool_name}` has no preset and no `command`"))
                            .label("unknown tool")
                            .help(format!("{near}; or add `command = [\"…\"]` (your tool's apply command), or use `name = \"sql\"` for plain SQL files")),
                    );
                    ToolKind::Command {
                        apply: CommandSpec::Argv(vec!["true".into()]),
                    }
                }
            }
        }
    }

    /// How the connection string reaches the tool: variables, URL shape, credentials.
    fn handoff(&mut self, rt: &RawTool) -> Handoff {
        let url_env = strings(&rt.url_env).unwrap_or_else(|| vec!["DATABASE_URL".into()]);
        let mut names: Vec<(&str, Vec<S<String>>)> = Vec::new();
        for (key, list) in [
            ("url-env", &rt.url_env),
            ("user-env", &rt.user_env),
            ("password-env", &rt.password_env),
        ] {
            names.push((key, list.clone().unwrap_or_default()));
        }
        for (key, list) in names {
            for n in list {
                let v = n.get_ref();
                if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.push(
                        Problem::new(
                            "config::env",
                            span(&n),
                            format!("`{v}` in `{key}` is not a valid environment variable name"),
                        )
                        .help("use letters, digits and `_`"),
                    );
                }
            }
        }
        let format = rt
            .url_format
            .as_ref()
            .and_then(|f| self.choice(f, "URL format"))
            .unwrap_or(UrlFormat::Url);
        Handoff {
            url_env,
            format,
            driver: rt.url_driver.as_ref().map(|d| d.get_ref().clone()),
            user_env: strings(&rt.user_env).unwrap_or_default(),
            password_env: strings(&rt.password_env).unwrap_or_default(),
            drop_params: strings(&rt.drop_url_params).unwrap_or_default(),
            config_files: strings(&rt.config_files).unwrap_or_default(),
        }
    }
}

/// Paths whose changes need a migration run; `None`: unknown, every change counts.
fn watch(rt: &RawTool, kind: &ToolKind, tree: &Tree, working_dir: &Path) -> Option<Vec<PathBuf>> {
    match (kind, strings(&rt.watch)) {
        // Globs name what exists now; literal paths are kept even before they exist.
        (_, Some(list)) => Some(
            list.iter()
                .flat_map(|p| {
                    if p.contains(['*', '?', '{']) {
                        tree.matches(p)
                    } else {
                        vec![p.clone()]
                    }
                })
                .map(|p| working_dir.join(p))
                .collect(),
        ),
        (ToolKind::Sql { migrations_dir }, None) => Some(vec![migrations_dir.clone()]),
        (ToolKind::Command { .. }, None) => None,
    }
}

fn strings(v: &Option<Vec<S<String>>>) -> Option<Vec<String>> {
    v.as_ref()
        .map(|l| l.iter().map(|s| s.get_ref().clone()).collect())
}
