# Sourced by the other scripts: puts the project's tools on PATH.
# shellcheck shell=bash
# Nothing here decides how the wasm32 half is built: scripts/toolchain/wasm-route
# decides that when a build runs, from what the machine has then.

AVSWEEP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AVSWEEP_ROOT
case ":$PATH:" in
  *":$HOME/.cargo/bin:"*) ;;
  *) export PATH="$HOME/.cargo/bin:$PATH" ;;
esac
# cargo-leptos (optional, watch mode) runs plain `cargo` for both halves; the
# shim sends the wasm32 half to the right toolchain.
if [ -z "${AVSWEEP_REAL_CARGO:-}" ]; then
  AVSWEEP_REAL_CARGO="$(command -v cargo || true)"
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

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
