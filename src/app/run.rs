//! Opening the configured provider and running a pipeline with its outputs.

use tokio::sync::watch;

use crate::config::{self, Config};
use crate::engine::{self, EventSink};
use crate::exit::{self, Failure};
use crate::git::GitInfo;
use crate::output::{self, Outputs};
use crate::providers::local::LocalProvider;
use crate::providers::{self, Provider, ProviderError};
use crate::report;
use crate::secret::Redactor;

use super::setup::{empty_git, SetupError};

/// The async runtime did not start.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot start the async runtime: {0}")]
pub struct RuntimeError(#[source] std::io::Error);

impl Failure for RuntimeError {
    fn exit_code(&self) -> i32 {
        exit::INTERNAL
    }
}

/// The async runtime of a command.
pub fn runtime() -> Result<tokio::runtime::Runtime, RuntimeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RuntimeError)
}

/// Makes every thread allocate from one malloc arena. `diff` turns both databases' catalog
/// rows into models on two workers at once; glibc would give each worker an arena of its own
/// and keep both arenas' freed pages, a tenth more peak memory for no speed (the workers
/// allocate in bursts between awaits, so they rarely wait on the arena's lock). Call it
/// before any thread is started.
pub fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a tunable of glibc's allocator; it is called before the
    // runtime starts any thread, and M_ARENA_MAX takes any positive value.
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 1);
    }
}

/// Ctrl-C and SIGTERM flip the returned flag; the engine then stops and cleans up.
pub fn interrupt_flag() -> watch::Receiver<bool> {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, rx) = watch::channel(false);
    // Registered here, before returning: a signal that comes right after (say, once the
    // emulator printed its URL) is caught, not the default action that ends the process.
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return rx;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        let _ = tx.send(true);
        // Keep the sender alive so the flag stays set.
        std::future::pending::<()>().await;
    });
    rx
}

/// Opens the configured provider.
pub async fn open_provider(
    config: &Config,
    redactor: &Redactor,
) -> Result<Box<dyn Provider>, ProviderError> {
    match &config.provider {
        config::ProviderConfig::Local(l) => {
            let url = match &l.url {
                Some(t) => {
                    let mut vars = engine::base_vars(&empty_git(), "");
                    vars.secrets = redactor.clone();
                    let url = crate::template::render(t, &vars)
                        .map_err(|e| ProviderError::new(format!("provider.url: {e}")))?;
                    // Its password, also one given as `?password=…`, is masked everywhere.
                    redactor.add_url(&url);
                    crate::pg::check_url_form(&url).map_err(|e| {
                        ProviderError::new(format!("provider.url: {e}")).help(
                            "write the server as a URL: `postgresql://USER@HOST:PORT/DATABASE` (the password in `PGPASSWORD`, or in the URL through `{{env.X}}`)",
                        )
                    })?;
                    Some(url)
                }
                None => None,
            };
            Ok(Box::new(LocalProvider::open(l, url, redactor).await?))
        }
        config::ProviderConfig::Neon(n) => Ok(Box::new(
            providers::neon::NeonProvider::open(n, redactor).await?,
        )),
    }
}

/// Runs `pipeline` and produces every output `outputs` asks for (live progress, the footer or
/// the JSON report, the Markdown summary, annotations); returns the run's exit code. `Err`:
/// the run could not start (an unknown pipeline, a provider that did not open).
pub async fn run_pipeline(
    config: &Config,
    git: &GitInfo,
    pipeline: &str,
    outputs: &Outputs,
) -> Result<i32, SetupError> {
    let Some(p) = config.pipelines.get(pipeline) else {
        return Err(SetupError::unknown_pipeline(config, pipeline));
    };
    let redactor = Redactor::new();
    let provider = open_provider(config, &redactor)
        .await
        .map_err(|e| SetupError::Provider {
            message: redactor.redact(&e.to_string()),
            help: e.help_text().map(|h| redactor.redact(&h)),
        })?;
    let live = output::Live::new(outputs.style);
    let sink: &dyn EventSink = if outputs.json { &engine::Silent } else { &live };
    let result = engine::run(
        config,
        git,
        provider.as_ref(),
        p,
        redactor.clone(),
        sink,
        interrupt_flag(),
    )
    .await;
    let report = match &result {
        Ok(r) => r,
        Err(f) => &f.report,
    };
    drop(live);
    if outputs.json {
        output::out(&format!("{}\n", report::render_json(report)));
    } else {
        let footer = report::render_footer(report);
        if outputs.style.color {
            output::out(&output::colorize(&footer));
        } else {
            output::out(&footer);
        }
    }
    output::finish(report, config, outputs);
    Ok(report.exit_code)
}
