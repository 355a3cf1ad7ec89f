# Sourced by the other scripts: puts the project's tools on PATH and decides
# how the browser (wasm32) half is built on this machine.
# shellcheck shell=bash

AVSWEEP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AVSWEEP_ROOT
export PATH="$HOME/.cargo/bin:$PATH"

# cargo-leptos runs plain `cargo` for both halves; the shim sends the wasm32
# build to Debian's toolchain when rustup has no wasm32 standard library.
if [ -z "${AVSWEEP_REAL_CARGO:-}" ]; then
  AVSWEEP_REAL_CARGO="$(command -v cargo)"
  export AVSWEEP_REAL_CARGO
fi
case ":$PATH:" in
  *":$AVSWEEP_ROOT/scripts/toolchain:"*) ;;
  *) export PATH="$AVSWEEP_ROOT/scripts/toolchain:$PATH" ;;
esac
# wasm-opt (binaryen) for release builds comes from the project's npm packages.
case ":$PATH:" in
  *":$AVSWEEP_ROOT/end2end/node_modules/.bin:"*) ;;
  *) export PATH="$PATH:$AVSWEEP_ROOT/end2end/node_modules/.bin" ;;
esac
if [ -z "${AVSWEEP_WASM_STD:-}" ]; then
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    AVSWEEP_WASM_STD=rustup
  else
    AVSWEEP_WASM_STD=debian
  fi
fi
export AVSWEEP_WASM_STD

# The wasm-bindgen version the project is pinned to (Cargo.toml: wasm-bindgen = "=X").
avsweep_wasm_bindgen_version() {
  sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$AVSWEEP_ROOT/Cargo.toml"
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
