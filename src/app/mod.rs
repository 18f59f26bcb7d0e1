//! What the commands share, as a library: finding the git repository and the config
//! ([`setup`]), opening the configured provider and running a pipeline with the outputs the
//! command line asked for ([`run`]), and loading a schema from a URL, a Neon database branch
//! or a `.sql` file ([`schema_source`]).
//!
//! Nothing here prints an error: failures are typed ([`crate::exit::Failure`]) and the command
//! line renders them.

pub mod ext_probe;
pub mod run;
pub mod schema_source;
pub mod setup;

pub use run::{
    interrupt_flag, one_malloc_arena, open_provider, run_pipeline, runtime, RuntimeError,
};
pub use setup::{load_config, setup, Loaded, SetupError};
