//! The site: the server binary, the hydrated wasm bundle, the style sheet and
//! the static assets, laid out as the server serves them (`target/site`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::wasm_route::{self, WasmRoute};

/// The stem every bundle file is named after; the server compiles with the
/// same name (`LEPTOS_OUTPUT_NAME` in .cargo/config.toml).
const OUTPUT_NAME: &str = "avsweep";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Builds `target/site` and returns its path.
pub fn build_site(root: &Path, release: bool) -> Result<PathBuf, String> {
    let site = root.join("target/site");
    let pkg = site.join("pkg");
    let wasm = build_wasm(root, release)?;
    if pkg.exists() {
        fs::remove_dir_all(&pkg).map_err(|e| format!("cannot clear {}: {e}", pkg.display()))?;
    }
    fs::create_dir_all(&pkg).map_err(|e| format!("cannot create {}: {e}", pkg.display()))?;
    bindgen(&wasm, &pkg, release)?;
    if release {
        optimise_wasm(&pkg.join(format!("{OUTPUT_NAME}.wasm")))?;
    }
    copy_file(
        &root.join("style/main.css"),
        &pkg.join(format!("{OUTPUT_NAME}.css")),
    )?;
    copy_tree(&root.join("public"), &site)?;
    eprintln!("xtask: site ready in {}", site.display());
    Ok(site)
}

/// Builds the `avsweep` binary; with `embed`, the site goes inside it.
pub fn build_server(root: &Path, release: bool, embed: Option<&Path>) -> Result<(), String> {
    let mut command = server_command(root, release, embed);
    run(&mut command, "the avsweep server")?;
    report_server(root, release);
    Ok(())
}

/// Builds the site and, at the same time, the server (a development or
/// release build without embedding): two cargo processes fill the gaps a
/// single one leaves on a small machine (one crate compiling, linking).
pub fn build_site_and_server(root: &Path, release: bool) -> Result<(), String> {
    let mut server = server_command(root, release, None)
        .spawn()
        .map_err(|e| format!("cannot start cargo for the avsweep server: {e}"))?;
    let site = build_site(root, release);
    let server_status = server
        .wait()
        .map_err(|e| format!("waiting for the server build: {e}"))?;
    site?;
    if !server_status.success() {
        return Err(format!(
            "building the avsweep server failed ({server_status})"
        ));
    }
    report_server(root, release);
    Ok(())
}

fn report_server(root: &Path, release: bool) {
    let profile = if release { "release" } else { "debug" };
    eprintln!(
        "xtask: server ready: {}",
        root.join("target").join(profile).join("avsweep").display()
    );
}

fn server_command(root: &Path, release: bool, embed: Option<&Path>) -> Command {
    let mut command = cargo_command(cargo());
    command
        .current_dir(root)
        .args(["build", "--locked", "-p", "server"]);
    if release {
        command.arg("--release");
    }
    match embed {
        Some(site) => command
            .env("AVSWEEP_EMBED_SITE", site)
            .env("AVSWEEP_BUILD_ID", build_id(root)),
        None => command.env_remove("AVSWEEP_EMBED_SITE"),
    };
    command
}

fn build_wasm(root: &Path, release: bool) -> Result<PathBuf, String> {
    let route = wasm_route::detect_in(root)?;
    eprintln!("xtask: building the browser half (wasm32 std: {route})");
    let mut command = match route {
        WasmRoute::Rustup => cargo_command(cargo()),
        WasmRoute::Debian => {
            let prefix = wasm_route::debian_prefix();
            let mut command = cargo_command(prefix.join("bin/cargo"));
            // Scoped to this build: Debian's compiler and the nightly switch -Zbuild-std needs.
            command
                .env("RUSTC", prefix.join("bin/rustc"))
                .env("RUSTC_BOOTSTRAP", "1")
                .env_remove("RUSTUP_TOOLCHAIN");
            command
        }
    };
    let profile = if release { "wasm-release" } else { "dev" };
    // Its own target dir: the wasm build can run beside the server build
    // (cargo locks a target dir per build), and neither its features nor, on
    // the Debian route, its compiler invalidate the server's artifacts.
    let target_dir = "target/front";
    command.current_dir(root).args([
        "build",
        "--locked",
        "-p",
        "frontend",
        "--lib",
        "--target",
        WASM_TARGET,
        "--target-dir",
        target_dir,
        "--profile",
        profile,
    ]);
    if route == WasmRoute::Debian {
        command.arg("-Zbuild-std=std,panic_abort");
    }
    run(&mut command, "the browser half (wasm32)")?;
    let dir = if release { "wasm-release" } else { "debug" };
    Ok(root
        .join(target_dir)
        .join(WASM_TARGET)
        .join(dir)
        .join("frontend.wasm"))
}

fn bindgen(wasm: &Path, pkg: &Path, release: bool) -> Result<(), String> {
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(wasm)
        .out_name(OUTPUT_NAME)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?
        .typescript(false)
        .debug(!release)
        // DWARF would make a development bundle ~10x larger; panics still name their place.
        .keep_debug(false);
    bindgen
        .generate(pkg)
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", wasm.display()))?;
    // The page asks for `<name>.wasm` (LEPTOS_OUTPUT_NAME is set), as cargo-leptos names it.
    let generated = pkg.join(format!("{OUTPUT_NAME}_bg.wasm"));
    let served = pkg.join(format!("{OUTPUT_NAME}.wasm"));
    fs::rename(&generated, &served)
        .map_err(|e| format!("cannot rename {}: {e}", generated.display()))
}

/// `wasm-opt -Oz` when binaryen is on PATH (scripts/setup puts npm's there);
/// without it the bundle is only larger, so it is a note, not a failure.
fn optimise_wasm(wasm: &Path) -> Result<(), String> {
    let optimised = wasm.with_extension("opt.wasm");
    let status = Command::new("wasm-opt")
        .arg("-Oz")
        .arg("--enable-bulk-memory")
        .arg("--enable-nontrapping-float-to-int")
        .arg("--enable-sign-ext")
        .arg("--enable-mutable-globals")
        .arg(wasm)
        .arg("-o")
        .arg(&optimised)
        .status();
    match status {
        Ok(status) if status.success() => fs::rename(&optimised, wasm)
            .map_err(|e| format!("cannot replace {}: {e}", wasm.display())),
        Ok(status) => Err(format!("wasm-opt failed ({status})")),
        Err(_) => {
            eprintln!("xtask: wasm-opt not found; the release bundle stays unoptimised");
            Ok(())
        }
    }
}

/// The commit a distributed binary is built from (`--version` shows it).
fn build_id(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) if !commit.is_empty() => {
            let modified = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|status| !status.is_empty());
            if modified {
                format!("{commit}-modified")
            } else {
                commit
            }
        }
        _ => "unknown".into(),
    }
}

/// The cargo that runs xtask (`cargo xtask …` sets CARGO), else `cargo`.
fn cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// A cargo command without the variables `cargo run` set for xtask itself
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, …): build scripts that watch them
/// (ring's does) would otherwise see a change and rebuild half the tree
/// every time the next plain `cargo build` or `cargo run` follows.
pub fn cargo_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || matches!(
                name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
            );
        if set_by_cargo_run {
            command.env_remove(name);
        }
    }
    command
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot start cargo for {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building {what} failed ({status})"))
    }
}

fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let target = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot stat {}: {e}", entry.path().display()))?;
        if kind.is_dir() {
            fs::create_dir_all(&target)
                .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
            copy_tree(&entry.path(), &target)?;
        } else {
            copy_file(&entry.path(), &target)?;
        }
    }
    Ok(())
}
