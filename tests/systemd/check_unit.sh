#!/usr/bin/env bash
# The shipped unit must verify cleanly and score an exposure of 2.0 or lower
# in systemd-analyze security. Exits 77 (skipped) where systemd-analyze is absent.
set -euo pipefail
unit=${1:?usage: check_unit.sh path/to/callgate.service}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIPPED: systemd-analyze is not installed"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# verify checks that ExecStart's binary exists; point it at one that does.
sed "s|/usr/local/sbin/callgated|/bin/true|g" "$unit" > "$work/callgate.service"
if ! out=$(systemd-analyze verify --man=no "$work/callgate.service" 2>&1); then
  echo "systemd-analyze verify failed:"; echo "$out"; exit 1
fi
if echo "$out" | grep -q 'callgate.service'; then
  echo "systemd-analyze verify complained:"; echo "$out"; exit 1
fi

report=$(systemd-analyze security --offline=true "$unit" 2>&1) || true
score=$(echo "$report" | sed -n 's/.*Overall exposure level for callgate.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
  echo "could not read the exposure level:"; echo "$report"; exit 1
fi
echo "exposure level: $score"
if awk -v s="$score" 'BEGIN { exit !(s > 2.0) }'; then
  echo "exposure $score is above 2.0:"; echo "$report" | grep -v '^✓'; exit 1
fi
