//! `neon-migrate.toml`: discovery, parsing in layers, and the validated model.
//!
//! Layers, as cargo-nextest does it: (1) TOML syntax; (2) raw serde types, with unknown keys
//! collected rather than fatal; (3) validation into the model — durations, templates, names,
//! references between stages and pipelines. Every problem from (2) and (3) is reported at once
//! with its span. Nothing outside this module sees the raw types.
//!
//! * `model.rs`: the validated configuration and its defaults (re-exported here);
//! * `load.rs`: finding and reading the file, layers 1 and 2;
//! * `validate/`: layer 3, one file per section;
//! * [`diag`]: problems and their rendering; [`duration`]: `"4h"`-style durations;
//!   `raw`: the serde types.

pub mod diag;
pub mod duration;
mod load;
mod model;
pub(crate) mod raw;
mod validate;

pub use diag::{ConfigError, Problem};
pub use load::{defaults, discover, load, parse, try_defaults, LoadError, FILE_NAME};
pub use model::*;
pub use validate::PRESETS;

#[cfg(test)]
mod tests;
