//! `neon-migrate diff --from A --to B`: two schemas into an online-safe plan (SQL, JSON or
//! Markdown).

use crate::app::schema_source;
use crate::app::SetupError;
use crate::exit::{self, Failure};
use crate::schema::{self, PlanOptions};
use crate::secret::Redactor;

use super::Context;

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Sql,
    Json,
    Markdown,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum DiffError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),
    /// A side could not be read (redacted).
    #[error("{0}")]
    #[diagnostic(help(
        "sources: a postgres:// URL, `main`, a .sql file, or a Neon database branch name"
    ))]
    Source(String),
}

impl Failure for DiffError {
    fn exit_code(&self) -> i32 {
        match self {
            DiffError::Setup(e) => e.exit_code(),
            DiffError::Source(_) => exit::PROVIDER,
        }
    }
    fn rendered(&self) -> Option<String> {
        match self {
            DiffError::Setup(e) => e.rendered(),
            DiffError::Source(_) => None,
        }
    }
}

pub(crate) async fn run(
    cx: &Context,
    from: &str,
    to: &str,
    format: Format,
    offline: bool,
) -> Result<i32, DiffError> {
    let config = cx.load_config()?;
    let redactor = Redactor::new();
    // Each source on a task of its own: their rows are turned into models on both cores.
    let spawn = |source: &str| {
        let (source, config, redactor) = (source.to_owned(), config.clone(), redactor.clone());
        tokio::spawn(async move { schema_source::load(&source, &config, &redactor).await })
    };
    let (a, b) = (spawn(from), spawn(to));
    let joined = |r: Result<_, tokio::task::JoinError>| match r {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    let (a, b) = (joined(a.await), joined(b.await));
    let (mut a, mut b) = match (a, b) {
        (Ok((a, sa)), Ok((b, sb))) => {
            for s in sa.into_iter().chain(sb) {
                s.finish().await;
            }
            (a, b)
        }
        // The scratch databases go, whatever failed; the first error is the one shown.
        (a, b) => {
            let mut first_error = None;
            for r in [a, b] {
                match r {
                    Ok((_, Some(s))) => s.finish().await,
                    Ok((_, None)) => {}
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            let e = first_error.map(|e| e.to_string()).unwrap_or_default();
            return Err(DiffError::Source(redactor.redact(&e)));
        }
    };
    let opts = PlanOptions {
        online: !offline,
        ..Default::default()
    };
    probe_extensions(&mut a, &mut b, to, &config, &redactor).await;
    let mut plan = schema::plan(&a, &b, &opts);
    count_offending_rows(&mut plan, &a, &b, from, &config, &redactor).await;
    match format {
        Format::Sql => print!("{}", schema::render_sql(&plan)),
        Format::Markdown => print!("{}", schema::render_markdown(&plan)),
        Format::Json => {
            let v = serde_json::json!({
                "schema_version": 1,
                "from_fingerprint": schema::fingerprint(&a),
                "to_fingerprint": schema::fingerprint(&b),
                "plan": plan,
            });
            println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        }
    }
    // The process ends next: freeing both models (a million allocations at 2,000 tables)
    // one by one would only add to its time.
    std::mem::forget((a, b));
    if plan.unsupported.is_empty() {
        return Ok(exit::OK);
    }
    eprintln!(
        "warning: {} change(s) the schema engine cannot express; see the plan",
        plan.unsupported.len()
    );
    Ok(exit::CHECK_FAILED)
}

/// On a `from` that is a database, counts the rows each statement that can fail or silently
/// change data would hit, as one more hazard of that statement
/// ([`crate::checks::integrity::hazards`]). A count that cannot be had is a warning: the
/// plan stands without it.
async fn count_offending_rows(
    plan: &mut schema::Plan,
    a: &schema::Model,
    b: &schema::Model,
    from: &str,
    config: &crate::config::Config,
    redactor: &Redactor,
) {
    let counted = async {
        let Some(url) = schema_source::database_url(from, config, redactor).await? else {
            return Ok(());
        };
        let client = crate::pg::connect(&url).await?;
        // A URL may hold a password: it is never part of a message.
        let label = if from.contains("://") {
            "the --from database"
        } else {
            from
        };
        let found = crate::checks::integrity::hazards::annotate(plan, a, b, &client, label).await?;
        // A statement sure to fail (rows counted, no cast) refuses the plan: exit 4.
        plan.unsupported
            .extend(found.into_iter().filter_map(|o| o.refusal));
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    if let Err(e) = counted {
        eprintln!(
            "warning: the rows the plan would fail on could not be counted: {}",
            redactor.redact(&e.to_string())
        );
    }
}

/// Learns what the extensions new or changed in `to` really create, on `to`'s server (a
/// `.sql` file's: the local one), so members added by hand are reported
/// ([`crate::schema::extprobe`]).
async fn probe_extensions(
    a: &mut schema::Model,
    b: &mut schema::Model,
    to: &str,
    config: &crate::config::Config,
    redactor: &Redactor,
) {
    use crate::app::ext_probe::{probed, ProbeDb};
    if schema::extprobe::to_probe(a, b).is_empty() {
        return;
    }
    let found = match schema_source::database_url(to, config, redactor).await {
        Ok(Some(url)) => probed(a, b, ProbeDb::Url(&url), config, redactor).await,
        Ok(None) => probed(a, b, ProbeDb::Local, config, redactor).await,
        Err(e) => {
            let reason = redactor.redact(&format!("cannot reach the --to database: {e}"));
            Some(schema::extprobe::not_checked(
                &schema::extprobe::to_probe(a, b),
                &reason,
            ))
        }
    };
    if let Some(found) = found {
        schema::extprobe::mark(Some(a), b, &found);
    }
}
