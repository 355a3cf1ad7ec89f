//! Which toolchain builds the wasm32 half. The rule lives in one place,
//! `scripts/toolchain/wasm-route`, shared with the cargo shim that
//! cargo-leptos uses; it is asked at every build, never cached.

use std::fmt;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmRoute {
    /// The active rustc has the wasm32-unknown-unknown standard library.
    Rustup,
    /// Debian's rustc-web with its std source: the build uses `-Zbuild-std`.
    Debian,
}

impl fmt::Display for WasmRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WasmRoute::Rustup => "rustup",
            WasmRoute::Debian => "debian",
        })
    }
}

pub fn detect_in(root: &Path) -> Result<WasmRoute, String> {
    let script = root.join("scripts/toolchain/wasm-route");
    let output = Command::new(&script)
        .output()
        .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    match String::from_utf8_lossy(&output.stdout).trim() {
        "rustup" => Ok(WasmRoute::Rustup),
        "debian" => Ok(WasmRoute::Debian),
        other => Err(format!(
            "wasm-route answered {other:?}, expected rustup or debian"
        )),
    }
}

pub fn detect() -> Result<WasmRoute, String> {
    detect_in(&crate::workspace_root())
}

/// Where Debian's wasm toolchain lives (`/usr`; tests point it elsewhere).
pub fn debian_prefix() -> std::path::PathBuf {
    std::env::var_os("AVSWEEP_DEBIAN_PREFIX")
        .map(Into::into)
        .unwrap_or_else(|| "/usr".into())
}
