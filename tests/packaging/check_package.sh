#!/usr/bin/env bash
# The Debian package, as an administrator meets it: built with cpack from
# this build, checked by lintian, installed with dpkg -i, its files and
# conffiles where they belong, its config valid, the installed binary
# answering /healthz on a loopback port, an edited conffile kept by a
# reinstall, then purged with nothing left behind.
#   check_package.sh BUILD_DIR
# Exits 77 (skipped, and says why) when not root or when a callgate package
# is already installed here (the test would replace an operator's).
set -euo pipefail
build=$(cd "${1:?usage: check_package.sh BUILD_DIR}" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: installing a package needs root"; exit 77
fi
if dpkg-query -W -f='${Status}' callgate 2>/dev/null | grep -q 'installed'; then
  echo "SKIPPED: a callgate package is installed on this machine; this test would replace it"; exit 77
fi
for tool in cpack dpkg lintian; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done

work=$(mktemp -d)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true
  if dpkg-query -W -f='${Status}' callgate 2>/dev/null | grep -q 'installed'; then
    dpkg --purge callgate >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- build -----------------------------------------------------------------
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || fail "no project version in $build/CMakeCache.txt"
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
arch=$(dpkg --print-architecture)
deb="$work/out/callgate_${version}_${arch}.deb"
[ -f "$deb" ] || { ls -l "$work/out"; fail "expected $deb"; }
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# --- control data ------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = callgate ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', the project is $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)'"
depends=$(field Depends)
for library in libboost-json1.81.0 libyaml-cpp libhiredis libssl3 libjemalloc2; do
  echo "$depends" | grep -q "$library" || fail "Depends does not name $library: $depends"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./conffiles > "$work/conffiles"
printf '/etc/callgate/callgate.yaml\n/etc/callgate/callgate.env.example\n' | diff - "$work/conffiles" \
  || fail "conffiles differ from the two files in /etc/callgate"

# --- lintian: nothing at all, down to the info level, but the overrides that
#     packaging/lintian-overrides explains (shown here as O:) ---------------------
# (lintian's own --fail-on counts an overridden note as a failure when
# overrides are shown, so the verdict is read from the tags it prints.)
if ! lintian --display-info --show-overrides "$deb" > "$work/lintian.log" 2>&1; then
  cat "$work/lintian.log"; fail "lintian failed or reports errors"
fi
grep -v 'running with root privileges' "$work/lintian.log" || true
if grep -q '^[EWIP]: ' "$work/lintian.log"; then fail "lintian reports tags"; fi

# --- install -------------------------------------------------------------------
dpkg -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
for file in /usr/sbin/callgated /etc/callgate/callgate.yaml /etc/callgate/callgate.env.example \
    /lib/systemd/system/callgate.service /usr/share/man/man8/callgated.8.gz \
    /usr/share/doc/callgate/copyright /usr/share/doc/callgate/changelog.gz; do
  [ -f "$file" ] || fail "$file was not installed"
  dpkg -S "$file" >/dev/null 2>&1 || fail "$file is not owned by the package"
done
listed=$(dpkg-query -W -f='${Conffiles}' callgate)
for conffile in /etc/callgate/callgate.yaml /etc/callgate/callgate.env.example; do
  echo "$listed" | grep -q " $conffile " || fail "$conffile is not a conffile of the installed package"
done
if dpkg -L callgate | grep -q '^/usr/local'; then fail "the package installs under /usr/local"; fi
grep -qx 'ExecStart=/usr/sbin/callgated --config /etc/callgate/callgate.yaml' /lib/systemd/system/callgate.service \
  || fail "the unit does not start /usr/sbin/callgated"
[ "$(/usr/sbin/callgated --version)" = "callgated $version" ] || fail "--version says '$(/usr/sbin/callgated --version)'"
zcat /usr/share/man/man8/callgated.8.gz | grep -q "^\.TH CALLGATED 8 .*callgate $version" \
  || fail "the manual page does not carry version $version"
man_warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l /usr/share/man/man8/callgated.8.gz 2>&1 >/dev/null)
[ -z "$man_warnings" ] || fail "the manual page renders with warnings: $man_warnings"

# --- the installed config validates, as the unit's ExecStartPre runs it ------------
/usr/sbin/callgated --check-config --config /etc/callgate/callgate.yaml > "$work/check.log" 2>&1 \
  || { cat "$work/check.log"; fail "--check-config rejects the installed config"; }
echo "check-config: $(cat "$work/check.log")"

# --- the installed binary runs: the installed config, on a free loopback port,
#     with its state in a scratch directory instead of /var/lib/callgate --------
sed -e 's|listen: "127.0.0.1:8080"|listen: "127.0.0.1:0"|' -e "s|/var/lib/callgate|$work/state|g" \
  /etc/callgate/callgate.yaml > "$work/callgate.yaml"
grep -q 'listen: "127.0.0.1:0"' "$work/callgate.yaml" || fail "the installed config's listen line changed; update this test"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/callgated --config "$work/callgate.yaml" > "$work/daemon.log" 2>&1 &
daemon_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$work/daemon.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log"; fail "the installed callgated exited at start"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/daemon.log"; fail "the installed callgated did not log its port"; }
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
answer=$(cat <&3)
exec 3<&-
echo "$answer" | head -1 | grep -q '^HTTP/1.1 200' || fail "/healthz answered: $answer"
kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=
[ "$status" -eq 0 ] || { cat "$work/daemon.log"; fail "callgated exited $status on SIGTERM"; }
echo "the installed callgated answered /healthz on 127.0.0.1:$port and stopped cleanly"

# --- an edited conffile survives a reinstall ------------------------------------
echo "# edited by the operator" >> /etc/callgate/callgate.yaml
dpkg -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "reinstalling failed"; }
grep -q '^# edited by the operator$' /etc/callgate/callgate.yaml || fail "a reinstall overwrote the edited config"

# --- purge: nothing of the package is left ---------------------------------------
dpkg --purge callgate > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge failed"; }
for path in /usr/sbin/callgated /etc/callgate /lib/systemd/system/callgate.service \
    /usr/share/man/man8/callgated.8.gz /usr/share/doc/callgate; do
  [ ! -e "$path" ] || fail "$path is left after a purge"
done
echo "package OK: built, lintian-clean, installed, ran, kept an edited conffile, purged"
