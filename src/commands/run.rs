//! `neon-migrate run <PIPELINE>`: create a test Neon database branch, migrate, check, delete,
//! (apply), and report.

use std::path::PathBuf;

use crate::app::{self, SetupError};
use crate::git::GitInfo;
use crate::output::Outputs;
use crate::report;

use super::Context;

/// Runs `pipeline`; returns the exit code. `--json` promises a report on stdout, also when the
/// run cannot start.
pub(crate) async fn run(
    cx: &Context,
    pipeline: &str,
    json: bool,
    summary_md: Option<PathBuf>,
) -> i32 {
    let git = match crate::git::discover(&cx.cwd) {
        Ok(g) => g,
        Err(e) => return setup_failed(&e.into(), pipeline, None, json),
    };
    let config = match super::load_config(cx.config.as_deref(), &cx.cwd, Some(&git)) {
        Ok(c) => c,
        Err(e) => return setup_failed(&e, pipeline, Some(&git), json),
    };
    let outputs = Outputs::from_env(json, summary_md, Some(&git.root));
    match app::run_pipeline(&config, &git, pipeline, &outputs).await {
        Ok(code) => code,
        Err(e) => setup_failed(&e, pipeline, Some(&git), json),
    }
}

/// Prints why the run could not start, and with `json` its report on stdout; returns the code.
fn setup_failed(e: &SetupError, pipeline: &str, git: Option<&GitInfo>, json: bool) -> i32 {
    let code = super::report(e);
    if json {
        println!("{}", report::render_json(&e.report(pipeline, git)));
    }
    code
}
