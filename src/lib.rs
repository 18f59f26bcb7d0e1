//! neon-migrate proves every schema change on a TTL'd copy of production — a test Neon
//! database branch — before it reaches production.
//!
//! The binary is a shim over [`run_from`]; `cargo xtask migrate` calls the same function.
//! The pieces: `cli` (the clap types) dispatching to one module per subcommand
//! (`commands`), which call the library: `app` (config and git for a command, opening the
//! provider, running a pipeline with its outputs), [`config`] (neon-migrate.toml in layers),
//! [`engine`] (stages over a context, never printing), [`providers`] (where Neon database
//! branches come from), [`tools`] (migration systems), [`runner`] (every child process),
//! [`report`] (what happened), [`output`] (where a report meets a terminal or CI).

pub(crate) mod app;
pub mod apply_lock;
pub mod checks;
mod cli;
mod commands;
pub mod config;
pub mod emulator;
pub mod engine;
pub mod exit;
pub mod fingerprint;
pub mod git;
pub mod gitindex;
pub mod hooks;
pub mod init;
pub mod naming;
pub mod output;
pub mod pg;
pub mod providers;
pub mod report;
pub mod row_values;
pub mod runner;
pub mod schema;
pub mod secret;
pub mod sqlstate;
mod stages;
pub mod template;
pub mod time;
pub mod tools;

pub use cli::run_from;
