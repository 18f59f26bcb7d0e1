//! The `neon-migrate` binary: a shim over the library so that `cargo xtask migrate` and the
//! command line share one code path.

fn main() {
    std::process::exit(neon_migrate::run_from(std::env::args_os()));
}
