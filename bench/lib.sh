# Shared by bench/run and bench/webhooks: the scratch directory, free ports,
# parsing bench_load's output, medians, and the baseline server.
# Sourced, not run; expects $threads to be set.

work=$(mktemp -d)
pids=()
scratch=()  # more directories to remove at exit (a tmpfs journal, say)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" "${scratch[@]}"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listening on port $1" >&2
  return 1
}
field() {  # line name
  echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Starts nginx answering "return 204" to everything (bench_baseline_server
# when nginx is missing); sets baseline_port and baseline_name.
start_baseline() {
  baseline_port=$(free_port)
  if command -v nginx >/dev/null 2>&1; then
    baseline_name="nginx return 204"
    mkdir -p "$work/nginx"
    cat > "$work/nginx.conf" <<CONF
worker_processes $threads;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$baseline_port reuseport;
    location / { return 204; }
  }
}
CONF
    nginx -p "$work/nginx" -c "$work/nginx.conf" -g 'daemon off;' &
    baseline_pid=$!
    pids+=($!)
  else
    baseline_name="bench_baseline_server (Beast, 204)"
    build/bench/bench_baseline_server "$baseline_port" "$threads" &
    baseline_pid=$!
    pids+=($!)
  fi
  wait_for_port "$baseline_port"
}

# The processes that serve the baseline: nginx's workers (not its idle
# master), or the Beast server itself.
baseline_processes() {
  local workers
  workers=$(pgrep -P "$baseline_pid" 2>/dev/null | tr '\n' ' ')
  echo "${workers:-$baseline_pid}"
}

# CPU time, user and system, of every thread of the given processes, in µs.
cpu_us() {  # pids...
  local ticks=0 pid stat
  for pid in "$@"; do
    for stat in /proc/"$pid"/task/*/stat; do
      # utime and stime are fields 14 and 15; the name in brackets may hold spaces.
      ticks=$((ticks + $(sed 's/.*) //' "$stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0)))
    done
  done
  echo $((ticks * 1000000 / $(getconf CLK_TCK)))
}

# The journal's syncs since the daemon started, from its /metrics: a disk
# stall (a sync over 50 ms) holds back every answer waiting on it, and a
# sync over 5 ms alone puts the answers waiting on it past the p99 target.
# The trailing syncs=, sync_us= and over5ms= fields are for the caller's
# arithmetic.
journal_syncs() {  # port
  python3 - "$1" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
value = lambda name: int(next((line.split()[1] for line in text.splitlines() if line.startswith(name + " ")), "0"))
syncs, spent = value("callgate_journal_syncs"), value("callgate_journal_sync_microseconds_total")
over5 = value("callgate_journal_sync_seconds_count") - value('callgate_journal_sync_seconds_bucket{le="0.005"}')
print(f"journal: {syncs} syncs, mean {spent / max(syncs, 1) / 1000:.2f} ms, {over5} over 5 ms, "
      f"{value('callgate_journal_slow_syncs')} over 50 ms, "
      f"longest {value('callgate_journal_longest_sync_microseconds') / 1000:.1f} ms syncs={syncs} sync_us={spent} over5ms={over5}")
PY
}

# Amazon's DynamoDB Local (scripts/setup aws installs it), in memory, on a
# free loopback port of this run; sets dynamodb_port and dynamodb_pid.
start_dynamodb_local() {
  local emulator=tests/aws/node_modules/amplify-dynamodb-simulator/emulator
  [ -f "$emulator/DynamoDBLocal.jar" ] || scripts/setup aws >/dev/null
  dynamodb_port=$(free_port)
  mkdir -p "$work/dynamodb-local"
  # It writes a metadata file where it runs: its own directory.
  (cd "$work/dynamodb-local" && exec java -Djava.library.path="$OLDPWD/$emulator/DynamoDBLocal_lib" \
    -jar "$OLDPWD/$emulator/DynamoDBLocal.jar" -inMemory -disableTelemetry -port "$dynamodb_port") \
    > "$work/dynamodb-local.log" 2>&1 &
  dynamodb_pid=$!
  pids+=($dynamodb_pid)
  for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$dynamodb_port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "DynamoDB Local did not start" >&2
  return 1
}

# A store: section for a fresh table in that DynamoDB Local, made by
# callgated at start.
dynamodb_store_yaml() {  # table
  printf '  backend: dynamodb\n  dynamodb:\n    region: ap-south-1\n    table: %s\n    endpoint: "http://127.0.0.1:%s"\n    create_table: true\n  spool:\n    path: "%s"\n' \
    "$1" "$dynamodb_port" "$work/spool-$1"
}

# What callgated has asked of DynamoDB so far, from its /metrics, as
# "requests= writes= wcu_milli= reported_wcu_milli= failures= retries=".
dynamodb_usage() {  # port
  python3 - "$1" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
value = lambda name: int(next((line.split()[1] for line in text.splitlines() if line.startswith(name + " ")), "0"))
print(" ".join(f"{key}={value('callgate_dynamodb_' + name)}" for key, name in [
    ("requests", "requests_total"), ("writes", "write_requests_total"), ("wcu_milli", "write_milliunits_total"),
    ("reported_wcu_milli", "reported_write_milliunits_total"), ("failures", "failures_total"),
    ("retries", "retries_total")]))
PY
}

# Requests and write capacity per item of work between two dynamodb_usage lines.
dynamodb_cost() {  # before after count what
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import sys
parse = lambda line: dict(part.split("=") for part in line.split())
before, after, count, what = parse(sys.argv[1]), parse(sys.argv[2]), max(int(sys.argv[3]), 1), sys.argv[4]
d = {key: int(after[key]) - int(before[key]) for key in after}
print(f"DynamoDB per {what} ({count}): {d['requests'] / count:.2f} requests ({d['writes'] / count:.2f} writes), "
      f"{d['wcu_milli'] / 1000 / count:.2f} WCU by AWS's rules (DynamoDB Local reports {d['reported_wcu_milli'] / 1000 / count:.2f}), "
      f"{d['retries']} retries, {d['failures']} failures")
PY
}

# A CA and a certificate for localhost made for this run ($work/ca.pem,
# $work/server.pem, $work/server.key): the fake provider's TLS.
make_bench_certificates() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=callgate bench CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$work/san.ext"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
    -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null
}

# Waits until the daemon's placements (callgate_calls_placed_total) stop
# growing, at most a minute, and prints how many it has placed.
settle_placements() {  # port
  python3 - "$1" <<'PY'
import sys, time, urllib.request
def placed():
    text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("callgate_calls_placed_total{"))
last, still, deadline = -1, 0, time.time() + 60
while time.time() < deadline and still < 4:
    now = placed()
    still = still + 1 if now == last else 0
    last = now
    time.sleep(0.25)
print(int(last))
PY
}

# callgrind's profile of a daemon once it is written: the dump is written
# by the daemon's process a moment after callgrind_control asked for it, and
# its totals line comes last. Prints the program's total instructions, or
# nothing after 10 s.
callgrind_total() {  # profile
  local total=
  for _ in $(seq 100); do
    [ -s "$1" ] && total=$(callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ && !found { gsub(",", "", $1); print $1; found = 1 }')
    [ -n "$total" ] && break
    sleep 0.1
  done
  echo "$total"
}

# The N functions that execute the most instructions (self), per request.
callgrind_top() {  # profile requests N
  callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null |
    awk -v requests="$2" -v top="$3" '
      /file:function/ { listing = 1; next }
      listing && $1 ~ /^[0-9,]+$/ && shown < top {
        count = $1; gsub(",", "", count); $1 = ""; $2 = "";
        printf "%8.0f %s\n", count / requests, substr($0, 3, 150); shown++ }'
}
