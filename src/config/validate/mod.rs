//! Layer 3 of loading a config: the raw types checked and turned into the model. Every
//! problem is collected with its span, none stops the pass.
//!
//! This file holds the `Validator` and the checks every section shares (durations,
//! templates, commands, env tables, enum names, unknown keys); each section has a file:
//! `provider`, `tool`, `checks` (with the SQL checks), `apply`, `pipelines` (with the
//! stages).

mod apply;
mod checks;
mod pipelines;
mod provider;
mod tool;
mod workload;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use super::diag::{self, Problem};
use super::duration;
use super::raw::{self, RawCommand, RawConfig, RawDbBranch, S};
use super::{
    CommandSpec, Config, ConfigName, DbBranchSettings, DEFAULT_DB_BRANCH_LOCK_WAIT,
    DEFAULT_NAME_TEMPLATE, DEFAULT_TTL, MAX_TTL,
};
use crate::template::{self, Scope};

pub use pipelines::PRESETS;

/// Layer 3: turns the raw types into the model, collecting every problem with its span.
pub(super) struct Validator<'s> {
    pub(super) source: &'s str,
    /// The document with spans, to point at keys (serde only spans values).
    pub(super) doc: Option<&'s toml_edit::Table>,
    pub(super) problems: Vec<Problem>,
    /// Byte ranges of secrets written in the file, masked in every snippet.
    pub(super) secrets: Vec<Range<usize>>,
}

fn span<T>(s: &S<T>) -> Range<usize> {
    s.span()
}

impl Validator<'_> {
    fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// The span of the key at `path` (keys given as strings).
    fn key_at(&self, path: &[&str]) -> Range<usize> {
        let segs: Vec<Seg> = path.iter().map(|k| Seg::Key((*k).to_owned())).collect();
        self.doc.and_then(|d| key_span(d, &segs)).unwrap_or(0..0)
    }

    pub(super) fn unknown_key(&mut self, path: &[Seg]) {
        let Some(Seg::Key(key)) = path.last() else {
            return;
        };
        let parent = &path[..path.len() - 1];
        // Table names chosen by the user (stages.NAME, pipelines.NAME) are wildcards.
        let user_named =
            matches!(parent.first(), Some(Seg::Key(k)) if k == "stages" || k == "pipelines");
        let shape: Vec<&str> = parent
            .iter()
            .enumerate()
            .map(|(i, seg)| match seg {
                Seg::Index(_) => "*",
                Seg::Key(_) if i == 1 && user_named => "*",
                Seg::Key(k) => k.as_str(),
            })
            .collect();
        let known = raw::known_keys(&shape);
        let span = self.doc.and_then(|d| key_span(d, path)).unwrap_or(0..0);
        let where_ = if shape.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in `[{}]`", dotted(parent))
        };
        self.push(
            Problem::new(
                "config::unknown-key",
                span,
                format!("unknown key `{key}` {where_}"),
            )
            .label("not a known key")
            .help(diag::suggest(key, "keys", known)),
        );
    }

    fn duration(&mut self, s: &Option<S<String>>, what: &str, default: Duration) -> Duration {
        let Some(s) = s else { return default };
        match duration::parse(s.get_ref()) {
            Ok(d) => d,
            Err(e) => {
                self.push(
                    Problem::new(
                        "config::duration",
                        span(s),
                        format!("malformed duration for `{what}`: {e}"),
                    )
                    .label("not a duration")
                    .help(duration::HELP),
                );
                default
            }
        }
    }

    /// A duration that must not be zero (a timeout of `0s` would fail every run).
    fn timeout(&mut self, s: &Option<S<String>>, what: &str, default: Duration) -> Duration {
        let d = self.duration(s, what, default);
        if let Some(given) = s.as_ref().filter(|_| d.is_zero()) {
            if duration::parse(given.get_ref()).is_ok() {
                self.push(
                    Problem::new(
                        "config::duration",
                        span(given),
                        format!("`{what}` is zero: everything would time out at once"),
                    )
                    .label("zero")
                    .help(format!(
                        "give a positive duration, e.g. `{}` (the default)",
                        duration::format(default)
                    )),
                );
            }
            return default;
        }
        d
    }

    fn template(&mut self, s: &S<String>, scope: Scope, what: &str) {
        for p in template::check(s.get_ref(), scope) {
            let mut sp = span(s);
            if let Some(needle) = &p.needle {
                // Narrow the span to the variable when the source spells it literally.
                if let Some(slice) = self.source.get(sp.clone()) {
                    if let Some(off) = slice.find(needle.as_str()) {
                        sp = sp.start + off..sp.start + off + needle.len();
                    }
                }
            }
            self.push(
                Problem::new("config::template", sp, format!("{what}: {}", p.message))
                    .label("in this template")
                    .help(p.help),
            );
        }
    }

    fn command(&mut self, c: &S<RawCommand>, scope: Scope, what: &str) -> CommandSpec {
        let spec = match c.get_ref() {
            RawCommand::Shell(s) => CommandSpec::Shell(s.clone()),
            RawCommand::Argv(v) => CommandSpec::Argv(v.clone()),
        };
        let empty = match &spec {
            CommandSpec::Shell(s) => s.trim().is_empty(),
            CommandSpec::Argv(v) => v.is_empty() || v[0].trim().is_empty(),
        };
        if empty {
            self.push(
                Problem::new("config::command", span(c), format!("{what} is empty"))
                    .help("give a command, e.g. `[\"npx\", \"prisma\", \"migrate\", \"deploy\"]`"),
            );
        }
        for part in spec.parts() {
            for p in template::check(part, scope) {
                self.push(
                    Problem::new(
                        "config::template",
                        span(c),
                        format!("{what}: {}", p.message),
                    )
                    .label("in this command")
                    .help(p.help),
                );
            }
        }
        spec
    }

    fn env(&mut self, env: &BTreeMap<String, S<String>>, table: &[&str]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let what = table.join(".");
        for (k, val) in env {
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                let mut path = table.to_vec();
                path.push(k);
                let sp = self.key_at(&path);
                self.push(
                    Problem::new(
                        "config::env",
                        sp,
                        format!("`{k}` is not a valid environment variable name"),
                    )
                    .help("use letters, digits and `_`"),
                );
            }
            self.template(val, Scope::Command, &format!("{what}.{k}"));
            out.push((k.clone(), val.get_ref().clone()));
        }
        out
    }

    /// The enum value written in `s`, or a problem listing every valid name (`what`: the
    /// singular, e.g. "tool role").
    fn choice<T: ConfigName>(&mut self, s: &S<String>, what: &str) -> Option<T> {
        if let Some(value) = T::from_name(s.get_ref()) {
            return Some(value);
        }
        self.push(
            Problem::new(
                "config::value",
                span(s),
                format!("unknown {what} `{}`", s.get_ref()),
            )
            .label(format!("not a valid {what}"))
            .help(diag::suggest(s.get_ref(), &format!("{what}s"), &T::names())),
        );
        None
    }

    /// Every section, always in this order: the problems are sorted by position afterwards
    /// with a stable sort, so problems at the same place keep the order they were found in.
    pub(super) fn validate(&mut self, raw: RawConfig, root: &Path) -> Config {
        if let Some(version) = &raw.version {
            if *version.get_ref() != 1 {
                self.push(
                    Problem::new(
                        "config::version",
                        span(version),
                        format!("unsupported config version {}", version.get_ref()),
                    )
                    .help("this neon-migrate understands `version = 1`"),
                );
            }
        }
        let db_branch = self.db_branch(raw.neon_database_branch.unwrap_or_default());
        let provider = self.provider(raw.provider.unwrap_or_default(), root);
        let tool = self.tool(raw.tool, root);
        let raw_checks = raw.checks.unwrap_or_default();
        let checks = self.checks(&raw_checks);
        let sql_checks = self.sql_checks(raw_checks.sql);
        let apply = self.apply(
            raw.apply.unwrap_or_default(),
            checks.locks.access_exclusive_budget,
        );
        let stage_defs = self.stage_defs(&raw.stages);
        let pipelines = self.pipelines(&raw.pipelines, &stage_defs);
        Config {
            path: None,
            root: root.to_owned(),
            db_branch,
            provider,
            tool,
            sql_checks,
            checks,
            apply,
            pipelines,
        }
    }

    /// `[neon-database-branch]`: the name template, the TTL and the lock wait.
    fn db_branch(&mut self, rb: RawDbBranch) -> DbBranchSettings {
        let name_template = match &rb.name {
            Some(n) => {
                self.template(n, Scope::DbBranchName, "neon-database-branch.name");
                let text = n.get_ref();
                let fixed = !text.contains("{{");
                if fixed
                    && crate::naming::sanitize(text, crate::naming::MAX_LEN) == "unnamed"
                    && !text.to_ascii_lowercase().contains("unnamed")
                {
                    self.push(
                        Problem::new(
                            "config::name",
                            span(n),
                            "`neon-database-branch.name` is empty (once sanitized, nothing is left of it)",
                        )
                        .label("no name in here")
                        .help(format!(
                            "name the test Neon database branch after the git branch, e.g. `name = \"{DEFAULT_NAME_TEMPLATE}\"` (the default)"
                        )),
                    );
                }
                text.clone()
            }
            None => DEFAULT_NAME_TEMPLATE.to_owned(),
        };
        let ttl = self.duration(&rb.ttl, "neon-database-branch.ttl", DEFAULT_TTL);
        if let Some(t) = &rb.ttl {
            if ttl > MAX_TTL || ttl.is_zero() {
                self.push(
                    Problem::new(
                        "config::ttl",
                        span(t),
                        format!("TTL `{}` is out of range", t.get_ref()),
                    )
                    .help(
                        "a test Neon database branch lives between 1s and 30d; the default is `4h`",
                    ),
                );
            }
        }

        let lock_wait = self.duration(
            &rb.lock_wait,
            "neon-database-branch.lock-wait",
            DEFAULT_DB_BRANCH_LOCK_WAIT,
        );
        DbBranchSettings {
            name_template,
            ttl,
            lock_wait,
        }
    }
}

/// One step of a path into the document: a key, or an index in an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// The path serde_ignored reports, as segments.
pub(super) fn segments(path: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path as P;
    match path {
        P::Root => Vec::new(),
        P::Seq { parent, index } => {
            let mut v = segments(parent);
            v.push(Seg::Index(*index));
            v
        }
        P::Map { parent, key } => {
            let mut v = segments(parent);
            v.push(Seg::Key(key.clone()));
            v
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            segments(parent)
        }
    }
}

fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The span of the key at `path` in the document.
fn key_span(root: &toml_edit::Table, path: &[Seg]) -> Option<Range<usize>> {
    use toml_edit::{Item, TableLike, Value};
    enum Node<'a> {
        Table(&'a dyn TableLike),
        Item(&'a Item),
        Value(&'a Value),
    }
    let mut node = Node::Table(root as &dyn TableLike);
    let (last, parents) = path.split_last()?;
    for seg in parents {
        node = match (node, seg) {
            (Node::Table(t), Seg::Key(k)) => Node::Item(t.get_key_value(k)?.1),
            (Node::Item(Item::Table(t)), Seg::Key(k)) => Node::Item(t.get_key_value(k)?.1),
            (Node::Item(Item::Value(Value::InlineTable(t))), Seg::Key(k)) => {
                Node::Item(t.get_key_value(k)?.1)
            }
            (Node::Value(Value::InlineTable(t)), Seg::Key(k)) => Node::Item(t.get_key_value(k)?.1),
            (Node::Item(Item::ArrayOfTables(a)), Seg::Index(i)) => {
                Node::Table(a.get(*i)? as &dyn TableLike)
            }
            (Node::Item(Item::Value(Value::Array(a))), Seg::Index(i)) => Node::Value(a.get(*i)?),
            (Node::Value(Value::Array(a)), Seg::Index(i)) => Node::Value(a.get(*i)?),
            _ => return None,
        };
    }
    let Seg::Key(k) = last else { return None };
    let table: &dyn TableLike = match node {
        Node::Table(t) => t,
        Node::Item(i) => i.as_table_like()?,
        Node::Value(Value::InlineTable(t)) => t as &dyn TableLike,
        Node::Value(_) => return None,
    };
    table.get_key_value(k)?.0.span()
}
