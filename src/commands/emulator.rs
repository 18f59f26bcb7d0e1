//! `neon-migrate emulator`: serve an emulation of the Neon API v2, backed by a local Postgres.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config;
use crate::emulator::{Emulator, EmulatorOptions, Fault, FaultSpec};
use crate::exit::{self, Failure};

/// The emulator's flags.
pub(crate) struct Options {
    pub listen: SocketAddr,
    pub project_id: String,
    pub api_key_env: Option<String>,
    pub operation_delay: Duration,
    pub faults: Option<PathBuf>,
    pub backing_url: Option<String>,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum EmulatorError {
    #[error("--api-key-env {0}: the variable is not set")]
    ApiKeyUnset(String),
    #[error("--faults {}: {message}", path.display())]
    Faults { path: PathBuf, message: String },
    #[error("cannot start the emulator: {message}")]
    Start {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl Failure for EmulatorError {
    fn exit_code(&self) -> i32 {
        match self {
            EmulatorError::ApiKeyUnset(_) | EmulatorError::Faults { .. } => exit::USAGE,
            EmulatorError::Start { .. } => exit::PROVIDER,
        }
    }
}

/// Reads the faults file: a JSON array of fault specs.
fn read_faults(path: &PathBuf) -> Result<Vec<Fault>, EmulatorError> {
    let fail = |message: String| EmulatorError::Faults {
        path: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let specs: Vec<FaultSpec> = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    specs
        .into_iter()
        .map(|s| s.into_fault().map_err(|e| fail(e.to_string())))
        .collect()
}

pub(crate) async fn run(o: Options) -> Result<i32, EmulatorError> {
    let api_key = match &o.api_key_env {
        Some(name) => match std::env::var(name) {
            Ok(k) if !k.is_empty() => Some(k),
            _ => return Err(EmulatorError::ApiKeyUnset(name.clone())),
        },
        None => None,
    };
    let injected = match &o.faults {
        Some(path) => read_faults(path)?,
        None => Vec::new(),
    };
    let local = config::LocalConfig {
        url: o.backing_url,
        main_database: None,
        data_dir: o.data_dir,
        busy_parent: config::BusyParent::Fail,
        tool_role: config::ToolRole::default(),
    };
    let opts = EmulatorOptions {
        listen: o.listen,
        project_id: o.project_id,
        api_key,
        operation_delay: o.operation_delay,
        local,
    };
    let emu = Emulator::start(opts)
        .await
        .map_err(|e| EmulatorError::Start {
            message: e.to_string(),
            help: e.help_text(),
        })?;
    for f in injected {
        emu.inject(f);
    }
    let mut rx = crate::app::interrupt_flag();
    println!("Neon API emulator listening on {}", emu.base_url());
    println!("  project id            {}", emu.project_id());
    println!("  API base URLs         {0} and {0}/api/v2", emu.base_url());
    println!(
        "  main Neon database branch `main`: {}",
        crate::secret::mask_url_passwords(&emu.main_url())
    );
    println!(
        "  faults                POST/GET/DELETE {}/_emulator/faults (with the API key)",
        emu.base_url()
    );
    println!(
        "  request log           GET/DELETE {}/_emulator/requests (with the API key)",
        emu.base_url()
    );
    println!("Ctrl-C stops it and deletes every Neon database branch but `main`.");
    let _ = std::io::stdout().flush();
    let _ = rx.wait_for(|v| *v).await;
    emu.shutdown().await;
    Ok(exit::OK)
}
