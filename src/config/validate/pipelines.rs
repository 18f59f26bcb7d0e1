//! `[stages.NAME]` and `[pipelines.NAME]`: the project's stages, the preset pipelines and the
//! project's, and the order rules every pipeline keeps.

use std::collections::BTreeMap;
use std::ops::Range;

use super::{span, Validator};
use crate::config::diag::{self, Problem};
use crate::config::raw::{RawPipeline, RawStage};
use crate::config::{
    BuiltinStage, ConfigName, Pipeline, ShellStage, Stage, StageKind, StageKindName,
    DEFAULT_SHELL_TIMEOUT,
};
use crate::template::Scope;

/// Pipelines shipped with the binary (`pipelines/*.toml`).
pub const PRESETS: &[(&str, &str)] = &[
    ("pre-push", include_str!("../../../pipelines/pre-push.toml")),
    ("ci", include_str!("../../../pipelines/ci.toml")),
    ("deploy", include_str!("../../../pipelines/deploy.toml")),
];

impl Validator<'_> {
    /// The stages declared by the project, by name.
    pub(super) fn stage_defs(
        &mut self,
        raw: &BTreeMap<String, RawStage>,
    ) -> BTreeMap<String, Stage> {
        let mut stage_defs: BTreeMap<String, Stage> = BTreeMap::new();
        for (name, rs) in raw {
            if BuiltinStage::from_name(name).is_some() {
                let sp = self.key_at(&["stages", name]);
                self.push(
                    Problem::new(
                        "config::stage",
                        sp,
                        format!("`{name}` is a built-in stage and cannot be redefined"),
                    )
                    .help("choose another name for your stage"),
                );
                continue;
            }
            if let Some(stage) = self.stage(name, rs) {
                stage_defs.insert(name.clone(), stage);
            }
        }
        stage_defs
    }

    /// Presets, then the project's pipelines (which replace presets of the same name).
    pub(super) fn pipelines(
        &mut self,
        raw: &BTreeMap<String, RawPipeline>,
        stage_defs: &BTreeMap<String, Stage>,
    ) -> BTreeMap<String, Pipeline> {
        let mut pipelines = BTreeMap::new();
        for (pname, text) in PRESETS {
            let preset: RawPipeline = toml::from_str(text).expect("presets are valid (tested)");
            let p = self.pipeline(pname, None, &preset, stage_defs, "preset");
            pipelines.insert(pname.to_string(), p);
        }
        for (pname, rp) in raw {
            let sp = self.key_at(&["pipelines", pname]);
            let p = self.pipeline(pname, Some(sp), rp, stage_defs, "project");
            pipelines.insert(pname.clone(), p);
        }
        pipelines
    }

    fn stage(&mut self, name: &str, rs: &RawStage) -> Option<Stage> {
        let Some(kind) = &rs.kind else {
            let sp = self.key_at(&["stages", name]);
            self.push(
                Problem::new("config::stage", sp, format!("stage `{name}` has no `kind`"))
                    .help(diag::suggest("", "kinds", &StageKindName::names())),
            );
            return None;
        };
        let kind_name = self.choice::<StageKindName>(kind, "stage kind")?;
        let timeout = self.timeout(
            &rs.timeout,
            &format!("stages.{name}.timeout"),
            DEFAULT_SHELL_TIMEOUT,
        );
        let env = self.env(&rs.env, &["stages", name, "env"]);
        let stage_kind = match kind_name {
            StageKindName::Shell => {
                let Some(run) = &rs.run else {
                    self.push(
                        Problem::new(
                            "config::stage",
                            span(kind),
                            format!("shell stage `{name}` has no `run`"),
                        )
                        .help(
                            "add `run = \"…\"` (a shell command) or `run = [\"program\", \"arg\"]`",
                        ),
                    );
                    return None;
                };
                let run = self.command(run, Scope::Command, &format!("stages.{name}.run"));
                StageKind::Shell(ShellStage { run, env, timeout })
            }
            StageKindName::Builtin(builtin) => {
                if let Some(run) = &rs.run {
                    self.push(
                        Problem::new(
                            "config::stage",
                            span(run),
                            format!("`run` is only for shell stages, not `{}`", builtin.name()),
                        )
                        .help("remove `run`, or set `kind = \"shell\"`"),
                    );
                }
                builtin.kind()
            }
        };
        let always = rs
            .always
            .unwrap_or(matches!(stage_kind, StageKind::DeleteDbBranch));
        Some(Stage {
            name: name.to_owned(),
            kind: stage_kind,
            always,
        })
    }

    fn pipeline(
        &mut self,
        name: &str,
        name_span: Option<Range<usize>>,
        rp: &RawPipeline,
        defs: &BTreeMap<String, Stage>,
        origin: &str,
    ) -> Pipeline {
        let whole = rp
            .stages
            .as_ref()
            .map(span)
            .or(name_span.clone())
            .unwrap_or(0..0);
        let stages = self.pipeline_stages(name, rp, defs, &whole);
        self.order_rules(name, &stages, &whole);
        Pipeline {
            name: name.to_owned(),
            description: rp.description.clone().unwrap_or_default(),
            stages,
            origin: origin.to_owned(),
        }
    }

    /// The stages a pipeline lists: built-in ones and the project's, each name known.
    fn pipeline_stages(
        &mut self,
        name: &str,
        rp: &RawPipeline,
        defs: &BTreeMap<String, Stage>,
        whole: &Range<usize>,
    ) -> Vec<Stage> {
        let mut stages = Vec::new();
        match &rp.stages {
            None => self.push(
                Problem::new("config::pipeline", whole.clone(), format!("pipeline `{name}` has no `stages`"))
                    .help("add `stages = [\"create-neon-database-branch\", \"migrate\", \"checks\", \"delete-neon-database-branch\"]`"),
            ),
            Some(list) if list.get_ref().is_empty() => self.push(
                Problem::new("config::pipeline", whole.clone(), format!("pipeline `{name}` has no stages: a run of it would prove nothing and report PASSED"))
                    .help("list its stages, e.g. `stages = [\"create-neon-database-branch\", \"migrate\", \"checks\", \"delete-neon-database-branch\"]`, or remove the pipeline"),
            ),
            Some(list) => {
                for s in list.get_ref() {
                    let sname = s.get_ref();
                    if let Some(kind) = BuiltinStage::from_name(sname).map(BuiltinStage::kind) {
                        let always = matches!(kind, StageKind::DeleteDbBranch);
                        stages.push(Stage { name: sname.clone(), kind, always });
                    } else if let Some(stage) = defs.get(sname) {
                        stages.push(stage.clone());
                    } else {
                        let mut known: Vec<&str> = BuiltinStage::names();
                        known.extend(defs.keys().map(String::as_str));
                        self.push(
                            Problem::new("config::unknown-stage", span(s), format!("unknown stage `{sname}` in pipeline `{name}`"))
                                .label("no stage has this name")
                                .help(diag::suggest(sname, "stages", &known)),
                        );
                    }
                }
            }
        }
        stages
    }

    /// Order rules: what needs a test Neon database branch comes after it is created, one
    /// that is created is also deleted, and `apply` comes after the proof.
    fn order_rules(&mut self, name: &str, stages: &[Stage], whole: &Range<usize>) {
        let pos = |k: fn(&StageKind) -> bool| stages.iter().position(|s| k(&s.kind));
        let create = pos(|k| matches!(k, StageKind::CreateDbBranch));
        let delete = pos(|k| matches!(k, StageKind::DeleteDbBranch));
        for (i, s) in stages.iter().enumerate() {
            if matches!(s.kind, StageKind::Migrate | StageKind::Checks)
                && create.is_none_or(|c| c > i)
            {
                self.push(
                    Problem::new("config::pipeline", whole.clone(), format!("in pipeline `{name}`, `{}` runs on a test Neon database branch, but none is created before it", s.name))
                        .help("put `create-neon-database-branch` before it"),
                );
            }
            if matches!(s.kind, StageKind::Migrate | StageKind::Checks)
                && delete.is_some_and(|d| d < i)
            {
                self.push(
                    Problem::new("config::pipeline", whole.clone(), format!("in pipeline `{name}`, `{}` comes after the test Neon database branch is deleted", s.name))
                        .help("move `delete-neon-database-branch` after it"),
                );
            }
        }
        if create.is_some() && delete.is_none() {
            self.push(
                Problem::new("config::pipeline", whole.clone(), format!("pipeline `{name}` creates a test Neon database branch but never deletes it"))
                    .help("add `delete-neon-database-branch` (it runs even when an earlier stage fails)"),
            );
        }
        // Production is touched only after the proof: migrate and checks must come first.
        if let Some(apply_at) = pos(|k| matches!(k, StageKind::Apply)) {
            let migrate = pos(|k| matches!(k, StageKind::Migrate));
            let checks = pos(|k| matches!(k, StageKind::Checks));
            if migrate.is_none_or(|m| m > apply_at) || checks.is_none_or(|c| c > apply_at) {
                self.push(
                    Problem::new("config::pipeline", whole.clone(), format!("in pipeline `{name}`, `apply` does not follow `migrate` and `checks`"))
                        .help("apply runs only after the migrations were proven on a test Neon database branch: put `create-neon-database-branch`, `migrate` and `checks` before it"),
                );
            }
        }
    }
}
