//! `neon-migrate check`: validate neon-migrate.toml and print every problem at once.

use crate::app::SetupError;
use crate::exit;

use super::Context;

pub(crate) fn run(cx: &Context) -> Result<i32, SetupError> {
    let c = cx.load_config()?;
    let file = c
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(defaults)".into());
    if let Some((message, help)) = crate::tools::strays::strays(&c) {
        eprintln!("error: {file}: {message}\n  help: {help}");
        return Ok(exit::CONFIG);
    }
    println!(
        "{file}: ok — tool `{}`, provider `{}`, pipelines: {}",
        c.tool.name,
        c.provider.kind(),
        c.pipelines.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    if let Some(w) = crate::init::working_dir_warning(&c) {
        eprintln!("warning: {w}");
    }
    for w in crate::init::watch_warnings(&c) {
        eprintln!("warning: {w}");
    }
    Ok(exit::OK)
}
