#!/usr/bin/env bash
# The README's quick start on a "new machine", without touching this
# machine's toolchain: scripts/setup, scripts/start and the cargo shim run
# against fake rustup/rustc/cargo/apt-get/dpkg in a temporary PATH and HOME,
# in the situations a fresh machine meets:
#   1. no wasm32 std, `rustup target add` works   -> the build uses rustup's
#      (the stale-decision bug: the first run must not pick Debian's route)
#   2. no wasm32 std, rustup's server unreachable -> setup installs Debian's
#      rustc-web route and the build uses it with -Zbuild-std
#   3. the route changes after setup                -> the next build follows it
#   4. neither route can be had                     -> a clear message, exit 1
# Each fake logs its calls; the assertions read the logs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

new_machine() {
  # $1: does `rustup target add` work? (yes/no); $2: does apt have rustc-web? (yes/no)
  sandbox="$(mktemp -d)"
  mkdir -p "$sandbox/bin" "$sandbox/home" "$sandbox/sysroot/lib/rustlib" "$sandbox/dpkg" "$sandbox/debian"
  : >"$sandbox/calls"
  # Everything but the Rust wasm route is "installed" already.
  for pkg in nmap libxml2-utils xsltproc nftables iproute2 chromium gcc dpkg-dev binutils systemd curl openssl; do touch "$sandbox/dpkg/$pkg"; done
  cat >"$sandbox/bin/rustc" <<FAKE
#!/usr/bin/env bash
case "\$*" in
  "--print sysroot") echo "$sandbox/sysroot" ;;
  *) echo "rustc 1.95.0 (fake)" ;;
esac
FAKE
  cat >"$sandbox/bin/rustup" <<FAKE
#!/usr/bin/env bash
echo "rustup \$*" >>"$sandbox/calls"
if [ "\$1 \$2" = "target add" ]; then
  [ "$1" = yes ] || { echo "error: could not download" >&2; exit 1; }
  mkdir -p "$sandbox/sysroot/lib/rustlib/wasm32-unknown-unknown/lib"
  touch "$sandbox/sysroot/lib/rustlib/wasm32-unknown-unknown/lib/libstd-fake.rlib"
fi
FAKE
  cat >"$sandbox/bin/cargo" <<FAKE
#!/usr/bin/env bash
echo "rustup-cargo \$*" >>"$sandbox/calls"
FAKE
  cat >"$sandbox/bin/dpkg" <<FAKE
#!/usr/bin/env bash
[ "\$1" = -s ] && [ -e "$sandbox/dpkg/\$2" ]
FAKE
  cat >"$sandbox/bin/apt-get" <<FAKE
#!/usr/bin/env bash
echo "apt-get \$*" >>"$sandbox/calls"
[ "\$1" = install ] || exit 0
for pkg in "\$@"; do
  case "\$pkg" in
    rustc-web|cargo-web|rust-web-src|rust-web-llvm|lld-22)
      [ "$2" = yes ] || { echo "E: Unable to locate package \$pkg" >&2; exit 100; }
      touch "$sandbox/dpkg/\$pkg" ;;
  esac
done
if [ "$2" = yes ]; then
  mkdir -p "$sandbox/debian/bin" "$sandbox/debian/lib/rustlib/src/rust/library"
  touch "$sandbox/debian/lib/rustlib/src/rust/library/Cargo.lock"
  printf '#!/usr/bin/env bash\necho "debian-cargo RUSTC=\$RUSTC RUSTC_BOOTSTRAP=\$RUSTC_BOOTSTRAP \$*" >>"$sandbox/calls"\n' >"$sandbox/debian/bin/cargo"
  printf '#!/bin/sh\necho "rustc 1.96.0 (debian, fake)"\n' >"$sandbox/debian/bin/rustc"
  printf '#!/bin/sh\n' >"$sandbox/debian/bin/rust-lld"
  chmod +x "$sandbox/debian/bin/"*
fi
FAKE
  for tool in node npm; do printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$tool" "$sandbox" >"$sandbox/bin/$tool"; done
  chmod +x "$sandbox/bin/"*
}

# Runs a command as on the new machine: only the fakes and the base system on PATH.
on_new_machine() {
  env -i HOME="$sandbox/home" PATH="$sandbox/bin:/usr/bin:/bin" TERM=dumb \
    AVSWEEP_DEBIAN_PREFIX="$sandbox/debian" "$@"
}

# The wasm half as the shim (cargo-leptos) and xtask's route see it.
wasm_build_via_shim() {
  on_new_machine bash -c "source '$root/scripts/env.sh' && cargo build --target=wasm32-unknown-unknown -p frontend"
}

echo "== 1. rustup's wasm32 target can be added: the first run uses it"
new_machine yes yes
if on_new_machine "$root/scripts/start" >"$sandbox/out" 2>&1; then
  grep -q "rustup target add wasm32-unknown-unknown" "$sandbox/calls" && pass "setup added rustup's target" || fail "setup did not try rustup's target"
  grep -q "rustc-web" "$sandbox/calls" && fail "setup installed Debian's route although rustup's worked" || pass "no Debian toolchain installed"
  grep -q "^rustup-cargo xtask build" "$sandbox/calls" && pass "start built the site with xtask" || fail "start did not run cargo xtask build"
  grep -q "^rustup-cargo run .*-p server .* serve" "$sandbox/calls" && pass "start served" || fail "start did not serve"
  grep -qi "cargo install" "$sandbox/calls" && fail "setup installed a global cargo tool" || pass "no global cargo install"
else
  fail "scripts/start failed on the first run:"; cat "$sandbox/out" >&2
fi
route="$(on_new_machine "$root/scripts/toolchain/wasm-route" 2>&1 || true)"
[ "$route" = rustup ] && pass "wasm-route says rustup" || fail "wasm-route said '$route'"
wasm_build_via_shim
tail -n1 "$sandbox/calls" | grep -q "^rustup-cargo build --target=wasm32-unknown-unknown -p frontend$" \
  && pass "the shim builds wasm32 with rustup's cargo" || fail "shim: $(tail -n1 "$sandbox/calls")"
rm -rf "$sandbox"

echo "== 2. rustup's server is unreachable: Debian's rustc-web route"
new_machine no yes
if on_new_machine "$root/scripts/setup" --build-only >"$sandbox/out" 2>&1; then
  grep -q "apt-get install .*rustc-web.*rust-web-src.*lld-22" "$sandbox/calls" && pass "setup installed rustc-web, rust-web-src, lld-22" || fail "setup did not install Debian's route"
else
  fail "scripts/setup failed:"; cat "$sandbox/out" >&2
fi
wasm_build_via_shim
tail -n1 "$sandbox/calls" | grep -q "^debian-cargo RUSTC=$sandbox/debian/bin/rustc RUSTC_BOOTSTRAP=1 build --target=wasm32-unknown-unknown -p frontend -Zbuild-std=std,panic_abort$" \
  && pass "the shim builds wasm32 with Debian's cargo and build-std" || fail "shim: $(tail -n1 "$sandbox/calls")"
echo "== 3. rustup's target appears later: the next build follows it (no stale decision)"
mkdir -p "$sandbox/sysroot/lib/rustlib/wasm32-unknown-unknown/lib"
touch "$sandbox/sysroot/lib/rustlib/wasm32-unknown-unknown/lib/libstd-fake.rlib"
wasm_build_via_shim
tail -n1 "$sandbox/calls" | grep -q "^rustup-cargo build --target=wasm32-unknown-unknown" \
  && pass "the shim switched to rustup's cargo" || fail "shim: $(tail -n1 "$sandbox/calls")"
rm -rf "$sandbox"

echo "== 4. neither route: a message that says what to install"
new_machine no no
if on_new_machine "$root/scripts/setup" --build-only >"$sandbox/out" 2>&1; then
  fail "setup succeeded without any wasm32 std"
else
  grep -q "rustc-web" "$sandbox/out" && pass "setup failed and named the packages" || { fail "setup's message:"; cat "$sandbox/out" >&2; }
fi
msg="$(on_new_machine "$root/scripts/toolchain/wasm-route" 2>&1 >/dev/null || true)"
case "$msg" in *"scripts/setup"*) pass "wasm-route says to run scripts/setup" ;; *) fail "wasm-route said: $msg" ;; esac
rm -rf "$sandbox"

if [ "$failures" -gt 0 ]; then
  echo "first-run test: $failures failure(s)" >&2
  exit 1
fi
echo "first-run test: all passed"
