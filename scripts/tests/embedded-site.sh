#!/usr/bin/env bash
# The self-contained binary: started from an empty directory with no site on
# disk, it serves the pages, and the bundle they name (avsweep.<hash>.js,
# .wasm, .css) from inside itself with a year-long immutable cache; the
# unhashed names are not served. `--version` says the site is embedded.
#   scripts/tests/embedded-site.sh BINARY
# Nothing is contacted but 127.0.0.1.
set -euo pipefail
binary="$(realpath "${1:?usage: embedded-site.sh BINARY}")"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

version="$("$binary" --version)"
case "$version" in *"site embedded"*) echo "ok: $version" ;; *) fail "--version: $version" ;; esac

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cd "$work"
env -i PATH=/usr/bin:/bin HOME="$work" AVSWEEP_ADDR="127.0.0.1:$port" AVSWEEP_DATA_DIR="$work/data" \
  LEPTOS_SITE_ROOT="$work/no-site-here" RUST_LOG=warn "$binary" serve >"$work/log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$work/log" >&2; fail "the server did not start"; }

page="$(curl -fsS "http://127.0.0.1:$port/login")"
for extension in js wasm css; do
  path="$(grep -o "/pkg/avsweep\.[0-9a-f]\{16\}\.$extension" <<<"$page" | head -n1)"
  [ -n "$path" ] || fail "the sign-in page names no hashed .$extension"
  headers="$(curl -fsS -D - -o "$work/body" "http://127.0.0.1:$port$path")" || fail "GET $path"
  grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$headers" || fail "$path cache: $headers"
  [ -s "$work/body" ] || fail "$path is empty"
  echo "ok: $path served from the binary, immutable"
done
grep -qi '^content-type: application/wasm' < <(curl -fsS -D - -o /dev/null "http://127.0.0.1:$port$(grep -o '/pkg/avsweep\.[0-9a-f]\{16\}\.wasm' <<<"$page" | head -n1)") \
  || fail "the wasm is not served as application/wasm"
status="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/pkg/avsweep.js")"
[ "$status" = 404 ] && echo "ok: unhashed names are not served" || fail "/pkg/avsweep.js answered $status"
status="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/favicon.svg")"
[ "$status" = 200 ] && echo "ok: static assets served" || fail "/favicon.svg answered $status"
echo "embedded-site test: all passed"
