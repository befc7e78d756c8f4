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
