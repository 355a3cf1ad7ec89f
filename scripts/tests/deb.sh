#!/usr/bin/env bash
# The Debian package, for real, on this machine: builds it from a binary with
# scripts/package-deb, checks its metadata and files, verifies the systemd
# unit, installs it with dpkg, checks the user, directories and conffile,
# then runs the binary as the unit would (the avsweep user, the unit's
# Environment=, WorkingDirectory=, UMask= and LimitNOFILE=): `avsweep
# migrate`, then `avsweep serve` on a free 127.0.0.1 port until /healthz
# answers 200. Then an upgrade over itself (postinst migrates and keeps an
# edited conffile), the refusal of a database a newer avsweep migrated, and
# `dpkg --purge`, which also runs on any failure, so the machine is left as
# it was found.
#
#   scripts/tests/deb.sh [--binary PATH]    (default target/release/avsweep,
#                                            else target/debug/avsweep)
#
# Root only (dpkg -i); refuses to run where avsweep is already installed.
# Non-interactive. Nothing is contacted but 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:-}"; shift 2 || true ;;
    --binary=*) binary="${1#--binary=}"; shift ;;
    -h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) binary="$1"; shift ;;
  esac
done
if [ -z "$binary" ]; then
  binary="$root/target/release/avsweep"
  [ -x "$binary" ] || binary="$root/target/debug/avsweep"
fi

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { echo "deb test FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || fail "run as root: the test installs the package with dpkg -i"
[ -x "$binary" ] || fail "no avsweep binary at $binary: cargo build -p server, or give --binary PATH"
for tool in dpkg dpkg-deb curl runuser; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install dpkg curl util-linux)"
done
export DEBIAN_FRONTEND=noninteractive
# Never touch a real installation or its data.
if dpkg-query -W -f='${db:Status-Status}' avsweep 2>/dev/null | grep -qv '^not-installed$'; then
  fail "the avsweep package is installed here (or its configuration is left); this test installs and purges it, so it will not run here"
fi
for path in /etc/avsweep /var/lib/avsweep /usr/bin/avsweep; do
  [ ! -e "$path" ] || fail "$path exists; this test would install over it and purge it"
done

work="$(mktemp -d)"
server_pid=""
installed=no
user_existed=no
getent passwd avsweep >/dev/null && user_existed=yes
group_existed=no
getent group avsweep >/dev/null && group_existed=yes

cleanup() {
  local status=$?
  set +e
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null
  fi
  local purged=""
  if [ "$installed" = yes ]; then
    step "cleanup: dpkg --purge avsweep"
    purged="; the package was purged"
    dpkg --purge avsweep >"$work/purge.log" 2>&1 || { echo "dpkg --purge failed:" >&2; cat "$work/purge.log" >&2; status=1; }
  fi
  # The package keeps its system user on purge (Debian's advice); the test
  # made it, so the test removes it.
  if [ "$user_existed" = no ] && getent passwd avsweep >/dev/null; then
    userdel avsweep || status=1
  fi
  if [ "$group_existed" = no ] && getent group avsweep >/dev/null; then
    groupdel avsweep || status=1
  fi
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    echo "deb test: failed (exit $status)$purged" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

version="$(awk '/^\[/ { s = $0 } s == "[workspace.package]" && /^version[[:space:]]*=/ { sub(/^[^"]*"/, ""); sub(/".*/, ""); print; exit }' "$root/Cargo.toml")"
deb_version="${version//-/\~}"
arch="$(dpkg --print-architecture)"

step "build the package from $binary"
# gzip: xz, the shipped default, costs minutes on a debug binary and changes nothing tested here.
deb="$("$root/scripts/package-deb" --binary "$binary" --output "$work" --compression gzip)" \
  || fail "scripts/package-deb failed"
[ "$(basename "$deb")" = "avsweep_${deb_version}_${arch}.deb" ] || fail "unexpected file name $deb"
ok "built $(basename "$deb")"

step "dpkg-deb --info / --contents"
info="$(dpkg-deb --info "$deb")" || fail "dpkg-deb --info cannot read $deb"
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = avsweep ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$deb_version" ] || fail "Version is '$(field Version)', Cargo.toml says $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', this machine is $arch"
case "$(field Depends)" in
  *"libc6 (>= "*"adduser"*) ok "Depends: $(field Depends)" ;;
  *) fail "Depends lacks libc6 or adduser: '$(field Depends)'" ;;
esac
case "$(field Depends)" in *libssl*) fail "Depends names libssl: avsweep uses rustls" ;; esac
[ -n "$(field Description)" ] || fail "no Description"
for script in postinst prerm postrm conffiles md5sums; do
  grep -qw "$script" <<<"$info" || fail "the control archive has no $script"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/avsweep/avsweep.toml \
  || fail "/etc/avsweep/avsweep.toml is not a conffile"
contents="$(dpkg-deb --contents "$deb")"
for path in ./usr/bin/avsweep ./usr/lib/systemd/system/avsweep.service ./etc/avsweep/avsweep.toml ./usr/share/doc/avsweep/copyright; do
  grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
grep -E '^-rwxr-xr-x root/root .* \./usr/bin/avsweep$' <<<"$contents" >/dev/null \
  || fail "/usr/bin/avsweep is not root-owned 0755: $(grep usr/bin/avsweep <<<"$contents")"
if grep -v ' root/root ' <<<"$contents" | grep -q .; then
  fail "files not owned by root in the package: $(grep -v ' root/root ' <<<"$contents")"
fi
ok "metadata, conffile and files"

step "dpkg -i"
installed=yes
dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "dpkg -i failed"; }
[ "$(dpkg-query -W -f='${db:Status-Status}' avsweep)" = installed ] || fail "dpkg says avsweep is not installed"
ok "installed"

step "systemd-analyze verify the unit"
if ! command -v systemd-analyze >/dev/null; then
  apt-get install -y --no-install-recommends systemd >"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; fail "cannot install systemd (for systemd-analyze)"; }
fi
unit=/usr/lib/systemd/system/avsweep.service
# Where systemd does not run as PID 1 (containers), verify still reads the file.
verify="$(systemd-analyze verify "$unit" 2>&1)" || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify complains: $verify"
ok "the unit verifies"
security="$(systemd-analyze security --offline=yes "$unit" 2>&1 | tail -n1)" || true
case "$security" in
  *"exposure level"*" OK"*) ok "$security" ;;
  *"exposure level"*) fail "the unit's hardening regressed: $security" ;;
  *) echo "note: systemd-analyze security --offline is unavailable here" ;;
esac
for directive in 'User=avsweep' 'StateDirectory=avsweep' 'ConfigurationDirectory=avsweep' \
  'ExecStartPre=/usr/bin/avsweep migrate' 'ExecStart=/usr/bin/avsweep serve' 'CapabilityBoundingSet=' \
  'NoNewPrivileges=yes' 'ProtectSystem=strict' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK'; do
  grep -qx "$directive" "$unit" || fail "the unit lacks $directive"
done

step "user, directories, conffile"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd avsweep) || fail "no avsweep user"
[ "$uid" -lt 1000 ] || fail "avsweep is not a system user (uid $uid)"
[ "$home" = /var/lib/avsweep ] || fail "avsweep's home is $home"
case "$shell" in */nologin | */false) ;; *) fail "avsweep has a login shell: $shell" ;; esac
getent group avsweep >/dev/null || fail "no avsweep group"
[ "$(stat -c '%U:%G %a' /var/lib/avsweep)" = "avsweep:avsweep 750" ] \
  || fail "/var/lib/avsweep is $(stat -c '%U:%G %a' /var/lib/avsweep)"
[ "$(stat -c '%U:%G %a' /var/lib/avsweep/backups)" = "avsweep:avsweep 700" ] \
  || fail "/var/lib/avsweep/backups is $(stat -c '%U:%G %a' /var/lib/avsweep/backups)"
[ "$(stat -c '%U:%G %a' /etc/avsweep/avsweep.toml)" = "root:avsweep 640" ] \
  || fail "/etc/avsweep/avsweep.toml is $(stat -c '%U:%G %a' /etc/avsweep/avsweep.toml)"
dpkg-query -W -f='${Conffiles}\n' avsweep | grep -q '^ /etc/avsweep/avsweep.toml ' \
  || fail "dpkg does not list /etc/avsweep/avsweep.toml as a conffile"
grep -qx 'listen_addr = "127.0.0.1:3000"' /etc/avsweep/avsweep.toml || fail "the config does not listen on 127.0.0.1:3000"
grep -qx 'data_dir = "/var/lib/avsweep"' /etc/avsweep/avsweep.toml || fail "the config's data_dir is not /var/lib/avsweep"
/usr/bin/avsweep --version | grep -q "^avsweep $version" || fail "/usr/bin/avsweep --version: $(/usr/bin/avsweep --version)"
ok "system user avsweep ($uid), /var/lib/avsweep, backups/, conffile root:avsweep 0640"
# Enabled as debhelper would, also where systemd is not running (an image built in a chroot).
wants=/etc/systemd/system/multi-user.target.wants/avsweep.service
[ -L "$wants" ] || fail "postinst did not enable avsweep.service ($wants is missing)"
ok "avsweep.service enabled for multi-user.target"

step "every key the shipped config mentions is one avsweep accepts"
# Uncommented, with their documented values (no database_url: that one names
# a Postgres; no TLS files: they would have to exist), in a scratch data_dir.
sed -E 's/^# ([a-z_]+ = )/\1/' /etc/avsweep/avsweep.toml \
  | grep -Ev '^(database_url|tls_cert|tls_key) = ' \
  | sed "s|^data_dir = .*|data_dir = \"$work/all-keys\"|" >"$work/all-keys.toml"
keys="$(grep -cE '^[a-z_]+ = ' "$work/all-keys.toml")"
[ "$keys" -ge 10 ] || fail "only $keys keys in the shipped config"
(cd "$work" && AVSWEEP_CONFIG="$work/all-keys.toml" /usr/bin/avsweep migrate) >"$work/all-keys.log" 2>&1 \
  || { cat "$work/all-keys.log" >&2; fail "avsweep refuses the shipped config with its commented keys enabled"; }
ok "$keys keys, all accepted"

if [ -d /run/systemd/system ]; then
  # A machine that runs systemd started the service; the manual run below uses the same database.
  systemctl is-enabled --quiet avsweep.service || fail "postinst did not enable avsweep.service"
  ok "avsweep.service is enabled ($(systemctl is-active avsweep.service || true)); stopping it for the manual run"
  systemctl stop avsweep.service
fi

# The unit's settings, read from the installed unit so this follows it.
mapfile -t unit_env < <(sed -n 's/^Environment=//p' "$unit")
workdir="$(sed -n 's/^WorkingDirectory=//p' "$unit")"
unit_umask="$(sed -n 's/^UMask=//p' "$unit")"
nofile="$(sed -n 's/^LimitNOFILE=//p' "$unit")"
[ "$(sed -n 's/^User=//p' "$unit")" = avsweep ] || fail "the unit does not run as avsweep"

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    # Nothing answers on it: a refused connect to this machine only.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  fail "no free port on 127.0.0.1"
}
port="$(free_port)"
[ -n "$port" ] || fail "no free port on 127.0.0.1"

# As the service: the unit's user, environment, directory, umask and file
# limit. Replaces the calling shell, so run it in a subshell: `( as_service …
# )`, or `as_service … &`, where $! is then runuser itself (which passes a
# SIGTERM on to avsweep).
as_service() {
  cd "$workdir"
  umask "${unit_umask:-0022}"
  if [ -n "$nofile" ] && ! ulimit -n "$nofile" 2>/dev/null; then
    echo "note: cannot set LimitNOFILE=$nofile here; running with $(ulimit -n)" >&2
  fi
  exec runuser -u avsweep -- env "${unit_env[@]}" AVSWEEP_ADDR="127.0.0.1:$port" RUST_LOG=info "$@"
}

step "avsweep migrate as avsweep (the unit's ExecStartPre)"
(as_service /usr/bin/avsweep migrate) >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; fail "avsweep migrate failed"; }
[ "$(stat -c '%U %a' /var/lib/avsweep/avsweep.db)" = "avsweep 600" ] \
  || fail "the database is $(stat -c '%U %a' /var/lib/avsweep/avsweep.db), expected avsweep 600 (UMask=0077)"
[ -z "$(ls -A /var/lib/avsweep/backups)" ] || fail "a fresh database was backed up: $(ls /var/lib/avsweep/backups)"
ok "migrated /var/lib/avsweep/avsweep.db; no backup of a fresh database"

step "avsweep serve as avsweep on 127.0.0.1:$port (the unit's ExecStart)"
as_service /usr/bin/avsweep serve >"$work/serve.log" 2>&1 &
server_pid=$!
code=""
for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; fail "avsweep serve exited"; }
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/healthz" || true)"
  [ "$code" = 200 ] && break
  sleep 0.2
done
[ "$code" = 200 ] || { cat "$work/serve.log" >&2; fail "/healthz answered '$code' after 60 s"; }
ok "http://127.0.0.1:$port/healthz answered 200"

step "avsweep backup as avsweep while serving"
backup="$(as_service /usr/bin/avsweep backup 2>"$work/backup.log")" || { cat "$work/backup.log" >&2; fail "avsweep backup failed"; }
case "$backup" in /var/lib/avsweep/backups/avsweep-*.db) ;; *) fail "avsweep backup printed '$backup'" ;; esac
[ "$(stat -c '%U %a' "$backup")" = "avsweep 600" ] || fail "$backup is $(stat -c '%U %a' "$backup")"
ok "online backup $backup"

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
# Zombies aside (a container's PID 1 may never reap them), nothing of avsweep's is left.
left="$(ps -u avsweep -o stat=,pid=,args= | awk '$1 !~ /^Z/' || true)"
[ -z "$left" ] || fail "avsweep's processes outlived SIGTERM: $left"
ok "avsweep serve stopped on SIGTERM"

step "upgrade over itself: postinst migrates as avsweep and keeps the edited conffile"
echo '# edited by the deb test' >>/etc/avsweep/avsweep.toml
dpkg -i "$deb" >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log" >&2; fail "dpkg -i over the installed package failed"; }
tail -n1 /etc/avsweep/avsweep.toml | grep -qx '# edited by the deb test' || fail "the upgrade replaced the edited conffile"
[ "$(stat -c '%U:%G %a' /etc/avsweep/avsweep.toml)" = "root:avsweep 640" ] || fail "the upgrade reset the config's permissions"
[ -f /var/lib/avsweep/avsweep.db ] || fail "the upgrade lost the database"
ok "upgraded; conffile and database kept"

if command -v python3 >/dev/null && python3 -c 'import sqlite3' 2>/dev/null; then
  step "a database a newer avsweep migrated: the upgrade stops with the message"
  python3 - <<'PY'
import sqlite3
db = sqlite3.connect("/var/lib/avsweep/avsweep.db")
db.execute("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_from_a_newer_avsweep', 0)")
db.commit()
PY
  if dpkg -i "$deb" >"$work/refused.log" 2>&1; then
    fail "dpkg -i migrated a database from a newer avsweep"
  fi
  grep -q "this database was upgraded by a newer avsweep (schema m20991231_000001_from_a_newer_avsweep)" "$work/refused.log" \
    || { cat "$work/refused.log" >&2; fail "the refusal did not say why"; }
  python3 -c 'import sqlite3; db = sqlite3.connect("/var/lib/avsweep/avsweep.db"); db.execute("DELETE FROM seaql_migrations WHERE version LIKE ?", ("m2099%",)); db.commit()'
  dpkg --configure avsweep >"$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; fail "dpkg --configure after the fix failed"; }
  ok "refused with the message; dpkg --configure finished once the cause was gone"
else
  echo "note: python3's sqlite3 is missing; the newer-database refusal is covered by cargo test only"
fi

step "dpkg --purge avsweep"
dpkg --purge avsweep >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg --purge failed"; }
installed=no
for path in /usr/bin/avsweep /etc/avsweep /var/lib/avsweep "$unit" "$wants" \
  /var/lib/systemd/deb-systemd-helper-enabled/avsweep.service.dsh-also \
  /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/avsweep.service; do
  [ ! -e "$path" ] || fail "$path is left after purge"
done
! dpkg-statoverride --list /etc/avsweep/avsweep.toml >/dev/null 2>&1 || fail "the statoverride is left after purge"
ok "purged: no files, data or statoverride left"

echo "deb test: all passed"
