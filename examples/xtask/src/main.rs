//! `cargo xtask`: the project's own tasks. `cargo xtask migrate <ARGS>` is `neon-migrate <ARGS>`,
//! run in-process through the library, so the version is the one in `Cargo.lock` and no
//! binary needs installing. The git pre-push hook falls back to it when `neon-migrate` is not
//! on PATH.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    match args.next().and_then(|a| a.into_string().ok()).as_deref() {
        // `migrate` stands in for the program name, so the rest parses exactly as `neon-migrate`'s.
        Some("migrate") => {
            let argv = std::iter::once(std::ffi::OsString::from("cargo xtask migrate")).chain(args);
            ExitCode::from(neon_migrate::run_from(argv).clamp(0, 255) as u8)
        }
        _ => {
            eprintln!("usage: cargo xtask migrate <neon-migrate arguments>");
            ExitCode::from(2)
        }
    }
}
