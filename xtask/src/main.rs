//! Builds avsweep's web site with nothing installed globally: `cargo build`
//! for the server and for the browser half (wasm32), then wasm-bindgen as a
//! library (pinned by Cargo.lock to the runtime's exact version), the style
//! sheet and the static assets into `target/site`.
//!
//! ```text
//! cargo xtask site [--release]        # target/site: pkg/avsweep.{js,wasm,css} + public/
//! cargo xtask build [--release]       # the site, then the `avsweep` binary
//! cargo xtask dist                    # release binary with the site embedded
//! cargo xtask wasm-route              # which wasm32 toolchain this machine would use
//! ```
//!
//! The wasm32 toolchain is chosen here, at build time, from what the machine
//! has *now*: rustup's `wasm32-unknown-unknown` standard library when the
//! active toolchain has it, else Debian's `rustc-web` with `-Zbuild-std`.

mod site;
mod wasm_route;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [--release]

commands:
  site        build the browser bundle, style sheet and assets into target/site
  build       `site`, then the avsweep server binary (target/debug or target/release)
  dist        release build of avsweep with the site embedded (one self-contained binary)
  wasm-route  print which wasm32 toolchain a build would use on this machine, and why

options:
  --release   optimised build (the wasm gets the `wasm-release` profile and wasm-opt when present)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|arg| arg == "--release");
    let unknown: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|arg| *arg != "--release")
        .collect();
    if !unknown.is_empty() {
        eprintln!("xtask: unknown option(s): {unknown:?}\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("site") => site::build_site(&root, release).map(|_| ()),
        Some("build") => site::build_site_and_server(&root, release),
        Some("dist") => site::build_site(&root, true)
            .and_then(|site_dir| site::build_server(&root, true, Some(&site_dir))),
        Some("wasm-route") => wasm_route::detect().map(|route| {
            println!("{route}");
        }),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask's manifest sits one level below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
