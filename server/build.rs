//! Build information for `avsweep --version`, and the web site embedded in
//! the binary when `AVSWEEP_EMBED_SITE` names a built site directory
//! (`cargo xtask dist` sets it). Without it the server reads the site from
//! disk (`site_root`), as in development.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bundle files whose content names the served files (`avsweep.<hash>.js`).
const BUNDLE: [&str; 3] = ["pkg/avsweep.js", "pkg/avsweep.wasm", "pkg/avsweep.css"];

fn main() {
    println!("cargo:rerun-if-env-changed=AVSWEEP_EMBED_SITE");
    println!("cargo:rerun-if-env-changed=AVSWEEP_BUILD_ID");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let build_id = std::env::var("AVSWEEP_BUILD_ID")
        .ok()
        .filter(|id| !id.is_empty())
        // Set by `cargo xtask dist` (the commit); a development build says so.
        .unwrap_or_else(|| "dev".into());
    println!("cargo:rustc-env=AVSWEEP_BUILD_ID={build_id}");

    let mut code = String::from(
        "/// Files of the embedded site: (path below the site root, content).\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    let mut bundle_hash = String::new();
    if let Some(site) = std::env::var_os("AVSWEEP_EMBED_SITE").map(PathBuf::from) {
        let mut files = Vec::new();
        collect(&site, &site, &mut files);
        files.sort();
        for bundle_file in BUNDLE {
            assert!(
                files.iter().any(|(rel, _)| rel == bundle_file),
                "AVSWEEP_EMBED_SITE={} has no {bundle_file}: run `cargo xtask site --release` first",
                site.display()
            );
        }
        let mut hasher = Sha256::new();
        for (rel, path) in &files {
            println!("cargo:rerun-if-changed={}", path.display());
            if BUNDLE.contains(&rel.as_str()) {
                hasher.update(std::fs::read(path).expect("site file is readable"));
            }
            writeln!(
                code,
                "    ({rel:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .expect("writing to a String");
        }
        bundle_hash = hasher
            .finalize()
            .iter()
            .take(8)
            .fold(String::new(), |mut hex, byte| {
                write!(hex, "{byte:02x}").expect("writing to a String");
                hex
            });
    }
    code.push_str("];\n");
    writeln!(
        code,
        "/// Content hash of the bundle (empty when nothing is embedded).\n\
         pub const BUNDLE_HASH: &str = {bundle_hash:?};"
    )
    .expect("writing to a String");
    std::fs::write(out_dir.join("embedded_site.rs"), code).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the site at {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("site directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("inside the site")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((rel, path.canonicalize().expect("site file resolves")));
        }
    }
}
