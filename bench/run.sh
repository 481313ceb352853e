#!/usr/bin/env bash
# Sonde's benchmark suite: each scenario against Sonde and its yardstick, side by side in one
# run, on loopback only. Writes bench/results/latest.md and latest.csv. `make bench` runs it
# after `make build` and bench/setup.sh; docs/performance.md explains every figure.
#
# Environment (defaults in brackets):
#   SONDE_BIN            the daemon [build/release/sonde]
#   BENCH_OUT            where latest.md/latest.csv go [bench/results]
#   BENCH_KEEP=1         keep the work directory (logs, raw samples) instead of deleting it
#   BENCH_CONNECTIONS    HTTP connections of every load generator [64]
#   BENCH_WRK_SECONDS    duration of each wrk run [10]
#   BENCH_INGEST_RUNS    heartbeat checks of the ingestion scenario (one report each a round) [1000]
#   BENCH_INGEST_ROUNDS  ingestion rounds [10]
#   BENCH_PROBE_LEVELS   probe counts of the in-process probe scenario, 1 s interval ["4000 6000 8000 10000 12000 14000"]
#   BENCH_PROBE_WINDOW   measuring window of each probe level, after 4 s of warm-up [10]
#   BENCH_PROC_CHECKS    checks of the process-check scenario, 1 s interval each [1000]
#   BENCH_CAP            --max-concurrent-runs for scenarios 3 and 4 [32, Sonde's default]
#   BENCH_PROC_WINDOW    measuring window of scenario 3, after 5 s of warm-up [15]
#   BENCH_SPAWN_SECONDS  duration of each spawn-loop yardstick [10]
#   BENCH_SCALE_SMALL    checks of the first scheduler-scale set [10000]
#   BENCH_SCALE_LARGE    checks of the second scheduler-scale set [100000]
#   BENCH_BURST_MAX      seconds allowed for the small set's start-up burst [150]
#   BENCH_STEADY_WINDOW  steady-state window after the burst [30]
#   BENCH_IDLE_WINDOW    idle window (every check at 1h) after the burst [20]
#   BENCH_LARGE_WINDOW   window over which the large set's start-up burst is measured [60]
#   BENCH_SCALE_PROBE_SETTLE  seconds from loading the large set as in-process probes to its
#                        steady-state window (BENCH_STEADY_WINDOW) [30]
#   BENCH_READ_CHECKS    heartbeat checks of the read-path scenario (one report each) [10000]
#   BENCH_READ_REQUESTS  sequential GETs per endpoint in scenarios 5 and 7 [100]
#   BENCH_MEM_LEVELS     check counts of the memory scenario; bytes per check from the first and
#                        last ["0 1000 100000"]
#   BENCH_MEM_IDLE_WINDOW  seconds over which each memory level's idle CPU is measured [10]
#   BENCH_HIST_RUNS      runs of the year of history (scenario 7) [500000]
#   BENCH_HIST_CHECKS    checks those runs belong to [50: each reports about every 53 min]
#   BENCH_HIST_MAX_SECONDS  bound on filling (and pruning) the year [420]
#   BENCH_HISTFILL       the fill tool [sonde_histfill beside SONDE_BIN, in bench/tools/]
#   BENCH_SCENARIOS      which scenarios to run
#                        [ingest probes process scale_small scale_large scale_probes reads memory
#                        history]
#   BENCH_QUIET_WAIT     wait up to this many seconds for the 1-minute load average to drop
#                        below 1 before starting (a shared machine) [0: do not wait]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

SONDE_BIN=${SONDE_BIN:-$ROOT/build/release/sonde}
OUT_DIR=${BENCH_OUT:-$HERE/results}
KEEP=${BENCH_KEEP:-0}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
INGEST_RUNS=${BENCH_INGEST_RUNS:-1000}
INGEST_ROUNDS=${BENCH_INGEST_ROUNDS:-10}
PROBE_LEVELS=${BENCH_PROBE_LEVELS:-4000 5000 6000 7000 8000 10000 12000 14000}
PROBE_WINDOW=${BENCH_PROBE_WINDOW:-10}
PROBE_WARMUP=4
PROBE_CAP=512
PROBE_SAMPLE=200
PROC_CHECKS=${BENCH_PROC_CHECKS:-1000}
CAP=${BENCH_CAP:-32}
PROC_WARMUP=5
PROC_WINDOW=${BENCH_PROC_WINDOW:-15}
SPAWN_SECONDS=${BENCH_SPAWN_SECONDS:-10}
SCALE_SMALL=${BENCH_SCALE_SMALL:-10000}
SCALE_LARGE=${BENCH_SCALE_LARGE:-100000}
BURST_MAX=${BENCH_BURST_MAX:-150}
STEADY_WINDOW=${BENCH_STEADY_WINDOW:-30}
IDLE_WINDOW=${BENCH_IDLE_WINDOW:-20}
LARGE_WINDOW=${BENCH_LARGE_WINDOW:-60}
SCALE_PROBE_SETTLE=${BENCH_SCALE_PROBE_SETTLE:-30}
MEM_IDLE_WINDOW=${BENCH_MEM_IDLE_WINDOW:-10}
declare -A IDLE_CPU=()
QUIET_WAIT=${BENCH_QUIET_WAIT:-0}
READ_CHECKS=${BENCH_READ_CHECKS:-10000}
READ_REQUESTS=${BENCH_READ_REQUESTS:-100}
MEM_LEVELS=${BENCH_MEM_LEVELS:-0 1000 100000}
HIST_RUNS=${BENCH_HIST_RUNS:-500000}
HIST_CHECKS=${BENCH_HIST_CHECKS:-50}
HIST_MAX_SECONDS=${BENCH_HIST_MAX_SECONDS:-420}
HISTFILL_BIN=${BENCH_HISTFILL:-$(dirname "$SONDE_BIN")/bench/tools/sonde_histfill}
SCENARIOS=${BENCH_SCENARIOS:-ingest probes process scale_small scale_large scale_probes reads memory history}

[ -x "$SONDE_BIN" ] || die "no daemon at $SONDE_BIN (run make build, or set SONDE_BIN)"
[ "$INGEST_ROUNDS" -ge 2 ] || die "BENCH_INGEST_ROUNDS must be at least 2"
for tool in wrk nginx prometheus-pushgateway prometheus-blackbox-exporter gcc g++ curl ss; do
  command -v "$tool" >/dev/null || die "$tool is missing: run bench/setup.sh as root"
done

WORK=$(mktemp -d /tmp/sonde-bench.XXXXXX)
BIN=$WORK/bin
ROWS=$WORK/rows.tsv
: >"$ROWS"
FAILED=1

cleanup() {
  stop_all
  if [ "$KEEP" = 1 ] || [ "$FAILED" = 1 ]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Results: one row per figure; the ratio is Sonde ÷ yardstick when both are numbers.

is_num() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
fmt() {
  is_num "$1" || { echo "$1"; return; }
  awk -v v="$1" 'BEGIN { a = v < 0 ? -v : v;
    if (a >= 100) printf "%.0f", v; else if (a >= 10) printf "%.1f", v;
    else if (a >= 1) printf "%.2f", v; else if (a == 0) printf "0"; else printf "%.3g", v }'
}
# row ID FIGURE SONDE YARDSTICK_NAME YARDSTICK UNIT NOTES
row() {
  local ratio="—"
  if is_num "$3" && is_num "$5" && [ "$(calc "($5) != 0")" = 1 ]; then
    ratio=$(awk -v a="$3" -v b="$5" 'BEGIN { r = a / b; printf (r >= 10 || r <= -10) ? "%.0f" : (r >= 0.1 || r <= -0.1 ? "%.2f" : "%.3g"), r }')
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(fmt "$3")" "$4" "$(fmt "$5")" \
    "$ratio" "$6" "$7" >>"$ROWS"
  log "row $1: $2 = $(fmt "$3") $6 (yardstick $4: $(fmt "$5"); ratio $ratio)"
}

loadavg() { cut -d' ' -f1 /proc/loadavg; }

# ---------------------------------------------------------------------------------------------
# Tools, yardstick servers

build_tools() {
  mkdir -p "$BIN"
  gcc -O2 -Wall -Wextra -o "$BIN/tinycheck" "$HERE/tools/tinycheck.c"
  gcc -O2 -Wall -Wextra -o "$BIN/spawnloop" "$HERE/tools/spawnloop.c"
  gcc -O2 -Wall -Wextra -o "$BIN/minisched" "$HERE/tools/minisched.c"
  gcc -O2 -Wall -Wextra -o "$BIN/fsyncloop" "$HERE/tools/fsyncloop.c"
  g++ -std=c++20 -O2 -Wall -Wextra -o "$BIN/httpload" "$HERE/tools/httpload.cpp"
}

start_nginx() {
  local d=$WORK/nginx
  mkdir -p "$d/static"
  # nginx's workers run as nobody when the suite runs as root: let them reach the static files.
  chmod 711 "$WORK" "$d"
  chmod 755 "$d/static"
  NGINX_PORT=$(free_port)
  cat >"$d/nginx.conf" <<EOF
# The fixed-answer yardstick: every request gets 200 "ok". Workers: one per core.
worker_processes auto;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { return 200 "ok\n"; }
    # Scenarios 5 and 7: Sonde's own answers, saved to files (the read-path limit).
    location /static/ { alias $d/static/; default_type application/json; }
  }
}
EOF
  start nginx "$d/out.log" nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;'
  NGINX_URL=http://127.0.0.1:$NGINX_PORT
  wait_for nginx 10 http_ok "$NGINX_URL/"
}

start_pushgateway() {
  PUSHGW_PORT=$(free_port)
  start pushgateway "$WORK/pushgateway.log" prometheus-pushgateway \
    --web.listen-address="127.0.0.1:$PUSHGW_PORT"
  PUSHGW_URL=http://127.0.0.1:$PUSHGW_PORT
  wait_for pushgateway 15 http_ok "$PUSHGW_URL/-/ready"
}

start_blackbox() {
  BLACKBOX_PORT=$(free_port)
  cat >"$WORK/blackbox.yml" <<'EOF'
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
EOF
  start blackbox "$WORK/blackbox.log" prometheus-blackbox-exporter \
    --config.file="$WORK/blackbox.yml" --web.listen-address="127.0.0.1:$BLACKBOX_PORT"
  BLACKBOX_URL=http://127.0.0.1:$BLACKBOX_PORT
  wait_for blackbox-exporter 15 http_ok "$BLACKBOX_URL/-/healthy"
}

# wrk_run URL METHOD BODY CONTENT_TYPE: one line of key=value (see bench/wrk/request.lua).
wrk_run() {
  BENCH_WRK_METHOD=$2 BENCH_WRK_BODY=$3 BENCH_WRK_TYPE=$4 \
    wrk -t1 -c"$CONNS" -d"${WRK_SECONDS}s" --timeout 10s -s "$HERE/wrk/request.lua" "$1" |
    grep '^requests='
}

# ---------------------------------------------------------------------------------------------
# The daemon

# start_sonde NAME CHECKS_DIR CAP: sets SONDE_PID, SONDE_URL, SONDE_DIR, LAUNCH_S; waits until
# it listens (not until the checks are loaded: see wait_loaded).
start_sonde() {
  SONDE_DIR=$WORK/$1
  mkdir -p "$SONDE_DIR"
  rm -f "$SONDE_DIR/ready"
  LAUNCH_S=$(date +%s.%N)
  start "sonde_$1" "$SONDE_DIR/sonde.log" "$SONDE_BIN" serve --listen 127.0.0.1:0 \
    --checks "$2" --state-dir "$SONDE_DIR/state" --ready-file "$SONDE_DIR/ready" \
    --max-concurrent-runs "$3" --shutdown-timeout 1s --kill-grace-period 1s
  SONDE_PID=$LAST_PID
  wait_for "sonde $1 to listen" 60 test -s "$SONDE_DIR/ready"
  SONDE_URL=$(cat "$SONDE_DIR/ready")
}

# wait_loaded SECONDS: until the daemon logs that it loaded its checks; sets LOADED_S.
wait_loaded() {
  wait_for "sonde to load its checks" "$1" grep -q 'loaded [0-9]* checks' "$SONDE_DIR/sonde.log"
  LOADED_S=$(date +%s.%N)
}

stop_sonde() { stop_pid "$SONDE_PID"; }

# Sum of successCount + failureCount over every check in /json.
runs_done() {
  curl -fsS --max-time 30 "$SONDE_URL/json" |
    { grep -oE '"(successCount|failureCount)": *[0-9]+' || true; } | awk -F: '{s += $2} END {print s + 0}'
}
failures_done() {
  curl -fsS --max-time 30 "$SONDE_URL/json" |
    { grep -oE '"failureCount": *[0-9]+' || true; } | awk -F: '{s += $2} END {print s + 0}'
}

# ---------------------------------------------------------------------------------------------
# Scenario 1: report ingestion

# Reports go to heartbeat checks (docs/heartbeats.md): each report takes the full accepted path
# (rate limit, body validation, durable commit, answer) and can be repeated, so the figure can be
# reproduced from outside with plain wrk against the URLs /api/checks lists. The checks allow
# every report (reportsPerMinute: 1000000, minRecordInterval: 0s: no report is only counted).

# urls_ready DIR N: writes DIR/urls.txt, every heartbeat URL /api/checks lists (in key order:
# bench/h0 ... bench/limited last), once there are N.
urls_ready() {
  curl -fsS --max-time 30 "$SONDE_URL/api/checks" |
    { grep -oE '"url": *"[^"]*"' || true; } | sed -E 's/.*"(http[^"]*)"/\1/' >"$1/urls.txt"
  [ "$(wc -l <"$1/urls.txt")" -ge "$2" ]
}

scenario_ingest() {
  local d=$WORK/ingest r line total=0 secs=0 rej one load stored
  load=$(loadavg)
  log "scenario 1: report ingestion ($INGEST_ROUNDS rounds of one report to each of $INGEST_RUNS heartbeat checks, $CONNS connections)"
  mkdir -p "$d/checks"
  awk -v n="$INGEST_RUNS" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: h%d\n  namespace: bench\nspec:\n  runInterval: 1h\n  heartbeat: {grace: 1h, reportsPerMinute: 1000000, minRecordInterval: 0s}\n", i
  }' >"$d/checks/heartbeats.yaml"
  # One more with the default limits, for the flood (rate-limited) path.
  printf 'apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: limited\n  namespace: bench\nspec:\n  runInterval: 1h\n  heartbeat: {grace: 1h}\n' >"$d/checks/limited.yaml"
  start_sonde ingest "$d/checks" 32
  wait_loaded 120
  local limited
  wait_for "$((INGEST_RUNS + 1)) heartbeat URLs" 120 urls_ready "$d" "$((INGEST_RUNS + 1))"
  limited=$(tail -1 "$d/urls.txt")
  sed -i '$d' "$d/urls.txt"
  : >"$d/lat.txt"
  for r in $(seq "$INGEST_ROUNDS"); do
    line=$("$BIN/httpload" --requests "$d/urls.txt" --connections "$CONNS" --expect 200 \
      --latencies-out "$d/lat.txt") || die "round $r: not every report was accepted: $line"
    log "round $r: $line"
    total=$((total + $(kv "$line" requests)))
    secs=$(calc "$secs + $(kv "$line" seconds)")
  done
  stored=$(runs_done)
  [ "$stored" -ge "$total" ] || die "only $stored runs stored for $total accepted reports"
  # The reproduction docs/performance.md describes: plain wrk against one documented URL.
  one=$(wrk_run "$(head -1 "$d/urls.txt")" POST '{"OK":true}' application/json)
  log "sonde, wrk against one heartbeat URL: $one"
  [ "$(kv "$one" non2xx)" = 0 ] || die "wrk against one heartbeat URL: some answers were not 200"
  # The flood path: a check with the default rate limit (60 a minute): 429 before any parsing.
  rej=$(wrk_run "$limited" POST '{"OK":true}' application/json)
  log "sonde rate-limited path: $rej"
  # At most the burst (60) plus one a second got through.
  [ "$(calc "$(kv "$rej" requests) - $(kv "$rej" non2xx) <= 61 + $WRK_SECONDS")" = 1 ] ||
    die "rate-limited path: too many 2xx"
  local rss state
  rss=$(rss_kib "$SONDE_PID")
  stop_sonde
  state="$(find "$SONDE_DIR/state" -type f | wc -l) files, $(du -sk "$SONDE_DIR/state" | cut -f1) KiB"
  read -r p50 p99 <<<"$(pctl "$d/lat.txt" 50 99)"
  local accepted_rate
  accepted_rate=$(calc "$total / $secs")

  log "yardsticks: pushgateway and nginx, $CONNS connections, ${WRK_SECONDS}s each"
  local pg ng ceiling
  pg=$(wrk_run "$PUSHGW_URL/metrics/job/j/instance/i" POST 'some_metric 1\n' 'text/plain; version=0.0.4')
  log "pushgateway: $pg"
  [ "$(kv "$pg" non2xx)" = 0 ] || die "pushgateway answered non-2xx: $pg"
  ng=$(wrk_run "$NGINX_URL/externalCheckStatus" POST '{"OK":true}' application/json)
  log "nginx: $ng"
  [ "$(kv "$ng" non2xx)" = 0 ] || die "nginx answered non-2xx: $ng"
  for r in $(seq "$INGEST_ROUNDS"); do cat "$d/urls.txt"; done >"$d/all.txt"
  ceiling=$("$BIN/httpload" --requests "$d/all.txt" --connect "127.0.0.1:$NGINX_PORT" \
    --connections "$CONNS" --expect 200) || die "httpload against nginx: $ceiling"
  log "httpload against nginx (the load tool's ceiling): $ceiling"
  local disk
  disk=$("$BIN/fsyncloop" -t 3 "$d/fsync.test")
  log "disk, one writer, write+fdatasync per record: $disk"

  local how="$total reports to heartbeat URLs, $INGEST_ROUNDS rounds × one report to each of $INGEST_RUNS checks, $CONNS keep-alive connections, httpload; every report stored ($stored runs in the history afterwards)"
  row 1.1 "Report ingestion: accepted reports/s (full accept path, heartbeat URLs)" \
    "$accepted_rate" "pushgateway pushes/s (peer)" "$(kv "$pg" req_per_s)" "req/s" \
    "$how. Plain wrk against one heartbeat URL (all reports to one check, each stored): $(fmt "$(kv "$one" req_per_s)") req/s, p99 $(fmt "$(calc "$(kv "$one" p99_us) / 1000")") ms. Load tool's own ceiling (same tool, same URLs, against nginx): $(fmt "$(kv "$ceiling" req_per_s)") req/s. State directory afterwards: $state. Load average at start: $load."
  row 1.2 "Report ingestion: accepted reports/s vs. a fixed answer" \
    "$accepted_rate" "nginx return 200 (limit)" "$(kv "$ng" req_per_s)" "req/s" \
    "nginx: $(nproc) workers, wrk -t1 -c$CONNS, POST with the same body."
  row 1.3 "Report ingestion: p50 latency of accepted reports" "$(calc "$p50 / 1000")" \
    "pushgateway push p50" "$(calc "$(kv "$pg" p50_us) / 1000")" "ms" \
    "nginx p50: $(fmt "$(calc "$(kv "$ng" p50_us) / 1000")") ms. Closed loop, $CONNS connections: latency ≈ connections ÷ throughput."
  row 1.4 "Report ingestion: p99 latency of accepted reports" "$(calc "$p99 / 1000")" \
    "pushgateway push p99" "$(calc "$(kv "$pg" p99_us) / 1000")" "ms" \
    "nginx p99: $(fmt "$(calc "$(kv "$ng" p99_us) / 1000")") ms."
  row 1.5 "Report ingestion: accepted reports/s vs. the disk's commit rate" \
    "$accepted_rate" "write+fdatasync loop, one record per sync (limit without group commit)" \
    "$(kv "$disk" commits_per_s)" "req/s" \
    "Same filesystem as the state directory ($(df -T "$d" | awk 'NR == 2 {print $2 " on " $1}')); sync p50 $(fmt "$(calc "$(kv "$disk" p50_us) / 1000")") ms. Above 1: reports share commits."
  row 1.6 "Report ingestion: rate-limited requests/s (429: a flood against one heartbeat check)" \
    "$(kv "$rej" req_per_s)" "nginx return 200 (limit)" "$(kv "$ng" req_per_s)" "req/s" \
    "wrk -t1 -c$CONNS ${WRK_SECONDS}s against a check with the default reportsPerMinute (60): HTTP parse + token lookup + rate limit + answer, no JSON parse, no store. p50 $(fmt "$(calc "$(kv "$rej" p50_us) / 1000")") ms, p99 $(fmt "$(calc "$(kv "$rej" p99_us) / 1000")") ms. Daemon RSS with $((INGEST_RUNS + 1)) heartbeat checks: $(fmt "$(calc "$rss / 1024")") MiB."
}

# ---------------------------------------------------------------------------------------------
# Scenario 2: in-process HTTP probes against nginx. For each level of BENCH_PROBE_LEVELS probes,
# each every 1 s, the daemon runs for a window after a warm-up; the figure is the highest probe
# rate whose p99 start lateness (behind each sampled probe's cadence) stays within
# 10 ms with no failed probe. Yardstick: blackbox_exporter's http_2xx probes
# of the same nginx, driven as fast as wrk can.

# history_starts PREFIX LIMIT OUT ID...: "ID start" lines (start in epoch seconds), sorted by ID
# then start, from /api/history of the checks bench/PREFIX<ID> (an indexed query per check;
# /metrics would stall the loop it measures). One curl for every check and one date for every
# start: a pipeline of processes per check took most of a minute on a slow machine, beside the
# running probes.
history_starts() {
  local prefix=$1 limit=$2 out=$3 dir=$3.d id
  shift 3
  mkdir -p "$dir"
  for id in "$@"; do
    printf 'url = "%s/api/history?namespace=bench&healthcheck=%s%d&limit=%d"\noutput = "%s/%d"\n' \
      "$SONDE_URL" "$prefix" "$id" "$limit" "$dir" "$id"
  done >"$dir.cfg"
  curl -fsS --max-time 60 -K "$dir.cfg" || die "GET /api/history failed"
  { grep -roE '"started": *"[^"]*"' "$dir" || true; } |
    sed -E 's|^.*/([0-9]+):.*"([^"]*)"$|\1 \2|' >"$dir.raw"
  cut -d' ' -f2 "$dir.raw" | date -f - +%s.%N | paste -d' ' <(cut -d' ' -f1 "$dir.raw") - |
    sort -k1,1n -k2,2n >"$out"
}

# probe_lateness N FROM TO OUT: for a sample of PROBE_SAMPLE of the N probes (bench/h<i>), the
# lateness in ms of each start inside [FROM, TO] behind the probe's 1 s cadence
# (cadence_lateness).
probe_lateness() {
  local n=$1 i step ids=()
  step=$((n / PROBE_SAMPLE)); [ "$step" -gt 0 ] || step=1
  for ((i = 0; i < n; i += step)); do ids+=("$i"); done
  history_starts h 100 "$4.starts" "${ids[@]}"
  cadence_lateness "$2" "$3" 1 <"$4.starts" >"$4"
}

scenario_probes() {
  local d=$WORK/probes load n c0 c1 s0 s1 fails rate best_n=0 best_rate=0 best_note="" late_run=0
  load=$(loadavg)
  for n in $PROBE_LEVELS; do
    # Two late levels in a row: higher ones would be late too, and each costs most of a minute
    # (a slower machine otherwise takes the suite past its 15 minutes).
    if [ "$late_run" -ge 2 ]; then
      log "scenario 2: $n probes skipped (the two levels before it were late)"
      continue
    fi
    log "scenario 2: $n in-process HTTP probes of nginx every 1s"
    mkdir -p "$d/$n/checks"
    awk -v n="$n" -v url="$NGINX_URL/" 'BEGIN {
      for (i = 0; i < n; i++)
        printf "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: h%d\n  namespace: bench\nspec:\n  runInterval: 1s\n  timeout: 5s\n  probe:\n    http:\n      url: %s\n    conditions: [\"[STATUS] == 200\"]\n", i, url
    }' >"$d/$n/checks/p.yaml"
    start_sonde "probes_$n" "$d/$n/checks" "$PROBE_CAP"
    wait_loaded 60
    sleep "$PROBE_WARMUP"
    c0=$(runs_done); s0=$(date +%s.%N)
    sleep "$PROBE_WINDOW"
    c1=$(runs_done); s1=$(date +%s.%N)
    fails=$(failures_done)
    probe_lateness "$n" "$(awk -v t="$s0" 'BEGIN { printf "%.3f", t + 0.5 }')" \
      "$(awk -v t="$s1" 'BEGIN { printf "%.3f", t - 0.5 }')" "$d/$n/late.txt"
    stop_sonde
    rate=$(calc "($c1 - $c0) / ($s1 - $s0)")
    local late_n p50 p99 pmax
    late_n=$(wc -l <"$d/$n/late.txt")
    [ "$late_n" -gt 0 ] || die "no probe intervals measured"
    read -r p50 p99 pmax <<<"$(pctl "$d/$n/late.txt" 50 99 100)"
    log "sonde: $n probes: $(fmt "$rate") probes/s; start lateness over $late_n intervals of $PROBE_SAMPLE probes: p50 $p50 p99 $p99 max $pmax ms; $fails failed"
    if [ "$fails" = 0 ] && [ "$(calc "$p99 <= 10")" = 1 ]; then late_run=0; else late_run=$((late_run + 1)); fi
    if [ "$late_run" = 0 ] && [ "$(calc "$rate > $best_rate")" = 1 ]; then
      best_n=$n; best_rate=$rate
      best_note="$n probes every 1s, start lateness p50 $p50 / p99 $p99 / max $pmax ms over $late_n intervals of $PROBE_SAMPLE probes"
    fi
  done
  [ "$best_n" -gt 0 ] || best_rate="none on time"

  curl -fsS "$BLACKBOX_URL/probe?target=$NGINX_URL/&module=http_2xx" | grep -q '^probe_success 1' ||
    die "blackbox exporter probe of nginx did not succeed"
  local bb
  bb=$(wrk_run "$BLACKBOX_URL/probe?target=$NGINX_URL/&module=http_2xx" GET '' '')
  log "blackbox exporter: $bb"
  [ "$(kv "$bb" non2xx)" = 0 ] || die "blackbox exporter answered non-2xx: $bb"
  row 2.1 "In-process HTTP probes: probes/s against nginx, p99 start lateness <= 10 ms" "$best_rate" \
    "blackbox exporter http_2xx probes/s (peer)" "$(kv "$bb" req_per_s)" "probes/s" \
    "Sonde: highest of the levels $PROBE_LEVELS whose p99 start lateness was <= 10 ms with no failure, climbing until two levels in a row were late ($best_note); ${PROBE_WINDOW}s window after ${PROBE_WARMUP}s, --max-concurrent-runs $PROBE_CAP, each probe a new connection and a durable history row. Blackbox: wrk -t1 -c$CONNS GET /probe?module=http_2xx, p50 $(fmt "$(calc "$(kv "$bb" p50_us) / 1000")") ms. Load average at start: $load."
}

# ---------------------------------------------------------------------------------------------
# Scenario 3: process checks

scenario_process() {
  local d=$WORK/process c0 c1 t0 t1 s0 s1 fails load
  load=$(loadavg)
  log "scenario 3: process checks ($PROC_CHECKS checks every 1s, cap $CAP)"
  mkdir -p "$d/checks"
  awk -v n="$PROC_CHECKS" -v tc="$BIN/tinycheck" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: p%d\n  namespace: bench\nspec:\n  runInterval: 1s\n  timeout: 30s\n  podSpec:\n    containers:\n      - name: main\n        command: [\"%s\", \"report\"]\n", i, tc
  }' >"$d/checks/p.yaml"
  start_sonde process "$d/checks" "$CAP"
  wait_loaded 60
  sleep "$PROC_WARMUP"
  c0=$(runs_done); t0=$(cpu_ticks "$SONDE_PID"); s0=$(date +%s.%N)
  sleep "$PROC_WINDOW"
  c1=$(runs_done); t1=$(cpu_ticks "$SONDE_PID"); s1=$(date +%s.%N)
  fails=$(failures_done)
  stop_sonde
  local runs rate cpu_per_run
  runs=$((c1 - c0))
  [ "$runs" -gt 0 ] || die "no process check completed"
  rate=$(calc "$runs / ($s1 - $s0)")
  cpu_per_run=$(calc "($t1 - $t0) * 1000 / $CLK_TCK / $runs")
  log "sonde: $runs runs in $(calc "$s1 - $s0") s = $rate runs/s; daemon CPU $cpu_per_run ms/run; $fails failures in all"

  local true_loop check_loop
  true_loop=$("$BIN/spawnloop" -t "$SPAWN_SECONDS" -p 1 /bin/true)
  log "posix_spawn loop, /bin/true: $true_loop"
  check_loop=$(KH_REPORTING_URL="$NGINX_URL/externalCheckStatus?kh-run-uuid=bench" \
    "$BIN/spawnloop" -t "$SPAWN_SECONDS" -p "$CAP" "$BIN/tinycheck" report)
  log "posix_spawn loop, the checker against nginx, $CAP at a time: $check_loop"
  [ "$(kv "$check_loop" failed)" = 0 ] || die "the checker failed against nginx: $check_loop"
  local loop_rate
  loop_rate=$(kv "$check_loop" runs_per_s)

  row 3.1 "Process checks: completed runs/s" "$rate" \
    "posix_spawn+waitpid loop, /bin/true, 1 at a time (limit)" "$(kv "$true_loop" runs_per_s)" "runs/s" \
    "$PROC_CHECKS checks every 1s (demand $PROC_CHECKS/s), --max-concurrent-runs $CAP, minimal C checker (raw-socket POST, no curl, no shell); ${PROC_WINDOW}s window after ${PROC_WARMUP}s; $fails failed runs. Load average at start: $load."
  row 3.2 "Process checks: completed runs/s vs. the same checker without Sonde" "$rate" \
    "posix_spawn loop of the same checker, $CAP at a time, reporting to nginx" "$loop_rate" "runs/s" \
    "Same checker binary, same parallelism; the difference is Sonde: posix_spawn with output pipes and a process group, the report over HTTP with its durable commit, a /proc sweep at the end of each run, state."
  row 3.3 "Process checks: machine time per run (1 ÷ throughput)" "$(calc "1000 / $rate")" \
    "same checker in the spawn loop" "$(calc "1000 / $loop_rate")" "ms" \
    "Runner's added cost per run = the difference = $(fmt "$(calc "1000 / $rate - 1000 / $loop_rate")") ms of machine time (both cores)."
  row 3.4 "Process checks: daemon CPU per run" "$cpu_per_run" \
    "spawn loop's own CPU per run (posix_spawn+waitpid)" "$(kv "$check_loop" parent_cpu_ms)" "ms" \
    "utime+stime of the daemon over the window ÷ runs; the checker's own CPU is not included on either side."
}

# ---------------------------------------------------------------------------------------------
# Scenario 4: scheduler scale

# gen_scale N DIR spread|idle LOG: N checks running the minimal checker (which appends its start
# time to LOG); spread: intervals 1s..3600s, evenly; idle: every interval 1h. Writes
# DIR/checks/scale.yaml and DIR/intervals.txt ("ID SECONDS").
gen_scale() {
  mkdir -p "$2/checks"
  awk -v n="$1" -v out="$2" -v mode="$3" -v logf="$4" -v tc="$BIN/tinycheck" 'BEGIN {
    for (i = 0; i < n; i++) {
      iv = mode == "idle" ? 3600 : (n > 1 ? 1 + int(i * 3599 / (n - 1)) : 1);
      printf "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: s%d\n  namespace: bench\nspec:\n  runInterval: %ds\n  timeout: 30s\n  podSpec:\n    containers:\n      - name: main\n        command: [\"%s\", \"report\", \"%s\"]\n        env:\n          - name: BENCH_ID\n            value: \"%d\"\n", i, iv, tc, logf, i > (out "/checks/scale.yaml");
      printf "%d %d\n", i, iv > (out "/intervals.txt")
    }
  }'
}

# Distinct checks that have started at least once, and the latest of their first starts.
first_runs() { awk '!($1 in f) { f[$1] = $2; n++; if ($2 > m) m = $2 } END { printf "%d %.6f\n", n, m }' "$1" 2>/dev/null || echo "0 0"; }
all_ran_once() { [ "$(first_runs "$1" | cut -d' ' -f1)" -ge "$2" ]; }

# cadence_lateness FROM TO [INTERVAL]: reads "id start" lines sorted by id then start (an
# "id interval" line per id first when INTERVAL is empty, as lateness passes them) and writes,
# in ms, how far each start inside [FROM, TO] lies behind its check's cadence: the k-th start
# minus k intervals, minus the check's smallest such offset in the window (its most punctual
# start, left out, so that each check gives one figure per interval). Sonde and minisched keep a
# check's cadence (a run is due an interval after the previous one was due, unless that one
# started over half an interval late), so start - previous start - interval would credit a late
# start's lateness to the next one.
cadence_lateness() {
  awk -v from="$1" -v to="$2" -v fixed="${3:-}" '
    function flush(i) { for (i = 0; i < k; i++) if (i != mi) printf "%.3f\n", (o[i] - o[mi]) * 1000; k = 0 }
    NF == 3 { iv[$2] = $3; next }
    { if ($1 != id) { flush(); id = $1 }
      if ($2 < from || $2 > to) next
      o[k] = $2 - k * (fixed != "" ? fixed : iv[$1]); if (k == 0 || o[k] < o[mi]) mi = k; k++ }
    END { flush() }'
}

# lateness LOG INTERVALS FROM TO OUT: the start lateness (cadence_lateness) of the checks in LOG
# ("id start" lines) inside [FROM, TO], with their intervals from INTERVALS, in ms to OUT.
lateness() {
  { awk '{ print "iv", $1, $2 }' "$2"; sort -k1,1n -k2,2n "$1"; } | cadence_lateness "$3" "$4" >"$5"
}
runs_between() { awk -v a="$2" -v b="$3" '$2 >= a && $2 <= b { n++ } END { print n + 0 }' "$1"; }

# measure_steady NAME PID LOG N: waits for the start-up burst (every check ran once), then
# measures STEADY_WINDOW seconds. Sets BURST_S (from LOADED_S), LATE_N/P50/P99/MAX (ms),
# STEADY_RATE (runs/s), CPU_PCT (% of one core), RSS_MIB.
measure_steady() {
  local name=$1 pid=$2 logf=$3 n=$4 burst_end t0 t1 s0 s1
  wait_for "$name: every check to run once" "$BURST_MAX" all_ran_once "$logf" "$n"
  read -r _ burst_end <<<"$(first_runs "$logf")"
  BURST_S=$(calc "$burst_end - $LOADED_S")
  log "$name: all $n checks ran once, $(fmt "$BURST_S") s after loading; steady window ${STEADY_WINDOW}s"
  t0=$(cpu_ticks "$pid"); s0=$(date +%s.%N)
  sleep "$STEADY_WINDOW"
  t1=$(cpu_ticks "$pid"); s1=$(date +%s.%N)
  RSS_MIB=$(calc "$(rss_kib "$pid") / 1024")
  CPU_PCT=$(calc "($t1 - $t0) * 100 / $CLK_TCK / ($s1 - $s0)")
  STEADY_RATE=$(calc "$(runs_between "$logf" "$s0" "$s1") / ($s1 - $s0)")
  # From 2 s after the burst: runs that came due during it start as it ends, late by up to half
  # an interval, and belong to the burst (4.1), not to the steady state.
  lateness "$logf" "$(dirname "$logf")/intervals.txt" "$(awk -v t="$burst_end" 'BEGIN { printf "%.6f", t + 2 }')" "$s1" \
    "$(dirname "$logf")/late.txt"
  LATE_N=$(wc -l <"$(dirname "$logf")/late.txt")
  read -r LATE_P50 LATE_P99 LATE_MAX <<<"$(pctl "$(dirname "$logf")/late.txt" 50 99 100)"
  log "$name: lateness over $LATE_N intervals: p50 $LATE_P50 p99 $LATE_P99 max $LATE_MAX ms; $(fmt "$STEADY_RATE") runs/s; CPU $(fmt "$CPU_PCT")%; RSS $(fmt "$RSS_MIB") MiB"
}

# status_time: seconds and MiB of one GET /json (rendered on the daemon's only thread).
status_time() {
  local a b
  a=$(date +%s.%N)
  curl -fsS --max-time 120 -o "$SONDE_DIR/json.out" "$SONDE_URL/json" || { echo "failed"; return; }
  b=$(date +%s.%N)
  echo "$(fmt "$(calc "$b - $a")") s for $(fmt "$(calc "$(stat -c %s "$SONDE_DIR/json.out") / 1048576")") MiB"
}

scenario_scale_small() {
  local n=$SCALE_SMALL d=$WORK/scale-small y=$WORK/scale-small-yardstick load
  load=$(loadavg)
  log "scenario 4: scheduler scale, $n checks, intervals 1s..1h, cap $CAP"
  gen_scale "$n" "$d" spread "$d/runs.log"
  start_sonde scale-small "$d/checks" "$CAP"
  wait_loaded 120
  local load_s json
  load_s=$(calc "$LOADED_S - $LAUNCH_S")
  measure_steady sonde "$SONDE_PID" "$d/runs.log" "$n"
  json=$(status_time)
  stop_sonde
  local s_burst=$BURST_S s_n=$LATE_N s_p50=$LATE_P50 s_p99=$LATE_P99 s_max=$LATE_MAX
  local s_rate=$STEADY_RATE s_cpu=$CPU_PCT s_rss=$RSS_MIB

  log "yardstick: minisched, the same $n checks"
  mkdir -p "$y"
  cp "$d/intervals.txt" "$y/intervals.txt"
  LOADED_S=$(date +%s.%N)
  KH_REPORTING_URL="$NGINX_URL/externalCheckStatus?kh-run-uuid=bench" start minisched "$y/minisched.out" \
    "$BIN/minisched" -c "$CAP" -t $((BURST_MAX + STEADY_WINDOW + 30)) "$y/intervals.txt" \
    "$BIN/tinycheck" report "$y/runs.log"
  local mpid=$LAST_PID
  measure_steady minisched "$mpid" "$y/runs.log" "$n"
  stop_pid "$mpid"

  local what="$n checks, intervals 1s..3600s evenly spread, cap $CAP, minimal C checker"
  row 4.1 "Scheduler, $n checks: start-up burst (every check due at load runs once)" "$s_burst" \
    "minisched: heap + posix_spawn, same rules (limit)" "$BURST_S" "s" \
    "$what. Every check is due at load (fresh state directory, no splay). Load of the YAML ($(du -h "$d/checks/scale.yaml" | cut -f1)): $(fmt "$load_s") s. Burst rate $(fmt "$(calc "$n / $s_burst")") runs/s (minisched $(fmt "$(calc "$n / $BURST_S")")). Load average at start: $load."
  row 4.2 "Scheduler, $n checks: steady-state lateness p50" "$s_p50" "minisched p50" "$LATE_P50" "ms" \
    "Per interval: how far each start lies behind the check's cadence (k-th start − k × interval − the check's most punctual such offset in the window; both schedulers keep a check's cadence), from the checker's own CLOCK_REALTIME at process start (µs resolution; includes spawn-delay jitter). $s_n intervals from 2 s after the burst to the end of a ${STEADY_WINDOW}s window (minisched: $LATE_N); runs that came due during the burst and start as it ends are left to 4.1."
  row 4.3 "Scheduler, $n checks: steady-state lateness p99" "$s_p99" "minisched p99" "$LATE_P99" "ms" ""
  row 4.4 "Scheduler, $n checks: steady-state lateness max" "$s_max" "minisched max" "$LATE_MAX" "ms" ""
  row 4.5 "Scheduler, $n checks: daemon CPU at steady state" "$s_cpu" "minisched CPU" "$CPU_PCT" \
    "% of a core" "Steady load $(fmt "$s_rate") runs/s (minisched $(fmt "$STEADY_RATE") runs/s); includes starting those runs."
  row 4.6 "Scheduler, $n checks: RSS at steady state" "$s_rss" "minisched RSS" "$RSS_MIB" "MiB" \
    "GET /json at this size: $json (rendered on the event-loop thread, which serves nothing else meanwhile)."

  # Idle: the same checks, all at 1h, on the state directory of the run above: every check
  # started within the last few minutes, so none is due for most of an hour. (A fresh state
  # directory would first sit through the start-up burst of 4.1 again.)
  local i=$WORK/scale-idle
  log "scenario 4: idle, $n checks every 1h, each started minutes ago"
  gen_scale "$n" "$i" idle "$i/runs.log"
  mkdir -p "$i"
  mv "$d/state" "$i/state"  # start_sonde scale-idle uses $WORK/scale-idle/state
  start_sonde scale-idle "$i/checks" "$CAP"
  wait_loaded 120
  sleep 2
  local t0 t1 a b
  t0=$(cpu_ticks "$SONDE_PID"); a=$(date +%s.%N)
  sleep "$IDLE_WINDOW"
  t1=$(cpu_ticks "$SONDE_PID"); b=$(date +%s.%N)
  local idle_cpu idle_rss
  idle_cpu=$(calc "($t1 - $t0) * 100 / $CLK_TCK / ($b - $a)")
  idle_rss=$(calc "$(rss_kib "$SONDE_PID") / 1024")
  stop_sonde
  [ ! -s "$i/runs.log" ] || die "idle set: a check ran although each had started minutes before"
  row 4.7 "Scheduler, $n checks, nothing due: idle CPU" "$idle_cpu" "—" "—" "% of a core" \
    "Every check at 1h, restarted on the state of the run above (each started minutes before), so nothing is due; measured over ${IDLE_WINDOW}s from 2 s after loading; resolution 1 clock tick ($(calc "1000 / $CLK_TCK") ms) over the window. RSS $(fmt "$idle_rss") MiB."
}

scenario_scale_large() {
  local n=$SCALE_LARGE d=$WORK/scale-large y=$WORK/scale-large-yardstick load
  load=$(loadavg)
  log "scenario 4: scheduler scale, $n checks, intervals 1s..1h, cap $CAP (bounded: ${LARGE_WINDOW}s of the burst)"
  gen_scale "$n" "$d" spread "$d/runs.log"
  start_sonde scale-large "$d/checks" "$CAP"
  wait_loaded 300
  local load_s rss_loaded t0 t1 a b
  load_s=$(calc "$LOADED_S - $LAUNCH_S")
  rss_loaded=$(calc "$(rss_kib "$SONDE_PID") / 1024")
  t0=$(cpu_ticks "$SONDE_PID"); a=$(date +%s.%N)
  sleep "$LARGE_WINDOW"
  t1=$(cpu_ticks "$SONDE_PID"); b=$(date +%s.%N)
  local s_rate s_cpu s_rss json
  s_rate=$(calc "$(runs_between "$d/runs.log" "$a" "$b") / ($b - $a)")
  s_cpu=$(calc "($t1 - $t0) * 100 / $CLK_TCK / ($b - $a)")
  s_rss=$(calc "$(rss_kib "$SONDE_PID") / 1024")
  json=$(status_time)
  stop_sonde
  log "sonde: load $load_s s, RSS $rss_loaded MiB loaded, $s_rss MiB after; burst $s_rate runs/s, CPU $s_cpu%"

  mkdir -p "$y"
  cp "$d/intervals.txt" "$y/intervals.txt"
  a=$(date +%s.%N)
  KH_REPORTING_URL="$NGINX_URL/externalCheckStatus?kh-run-uuid=bench" start minisched_large \
    "$y/minisched.out" "$BIN/minisched" -c "$CAP" -t $((LARGE_WINDOW + 60)) "$y/intervals.txt" \
    "$BIN/tinycheck" report "$y/runs.log"
  local mpid=$LAST_PID
  t0=$(cpu_ticks "$mpid")
  sleep "$LARGE_WINDOW"
  t1=$(cpu_ticks "$mpid"); b=$(date +%s.%N)
  local m_rate m_cpu m_rss
  m_rate=$(calc "$(runs_between "$y/runs.log" "$a" "$b") / ($b - $a)")
  m_cpu=$(calc "($t1 - $t0) * 100 / $CLK_TCK / ($b - $a)")
  m_rss=$(calc "$(rss_kib "$mpid") / 1024")
  stop_pid "$mpid"

  local what="$n checks, intervals 1s..3600s evenly spread, cap $CAP"
  row 4.8 "Scheduler, $n checks: load time (start to checks loaded)" "$load_s" "—" "—" "s" \
    "$what; YAML $(du -h "$d/checks/scale.yaml" | cut -f1), one file. RSS once loaded: $(fmt "$rss_loaded") MiB. Load average at start: $load."
  row 4.9 "Scheduler, $n checks: start-up burst rate" "$s_rate" "minisched, same checks (limit)" \
    "$m_rate" "runs/s" \
    "Over the first ${LARGE_WINDOW}s after loading. At this rate all $n first runs take $(fmt "$(calc "$n / $s_rate")") s (minisched $(fmt "$(calc "$n / $m_rate")") s); this suite measures ${LARGE_WINDOW}s of it. Compare the $SCALE_SMALL-check burst rate in 4.1."
  row 4.10 "Scheduler, $n checks: steady-state lateness p50/p99/max" \
    "not measured: the start-up burst does not end within the time budget" "—" "—" "ms" \
    "See 4.9; lateness is measured at $SCALE_SMALL process checks (4.2–4.4), and at $n checks with in-process probes (4.13)."
  row 4.11 "Scheduler, $n checks: daemon CPU during the burst" "$s_cpu" "minisched CPU" "$m_cpu" \
    "% of a core" "Runs/s as in 4.9."
  row 4.12 "Scheduler, $n checks: RSS after ${LARGE_WINDOW}s of the burst" "$s_rss" "minisched RSS" "$m_rss" \
    "MiB" "GET /json at this size: $json."
}

# ---------------------------------------------------------------------------------------------
# Scenarios 5–7 share these: heartbeat checks (nothing runs unless a report comes) and GETs
# measured against nginx serving the very same bytes from a file.

# gen_heartbeats N FILE PREFIX: N heartbeat checks bench/PREFIX0.. every 1h, grace 1h, no rate
# limit and no coalescing (every report is a run).
gen_heartbeats() {
  awk -v n="$1" -v p="$3" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: %s%d\n  namespace: bench\nspec:\n  runInterval: 1h\n  heartbeat: {grace: 1h, reportsPerMinute: 1000000, minRecordInterval: 0s}\n", p, i
  }' >"$2"
}

# seq_get URL N OUT: N sequential GETs over one keep-alive connection (one curl, a config of N
# URLs); each transfer's time in ms to OUT. Fails unless every answer is a 200.
seq_get() {
  local i
  for ((i = 0; i < $2; i++)); do printf 'url = "%s"\noutput = "/dev/null"\n' "$1"; done >"$3.cfg"
  curl -sS --max-time 120 -K "$3.cfg" -w '%{http_code} %{time_total}\n' >"$3.raw" || return 1
  [ "$(wc -l <"$3.raw")" = "$2" ] || return 1
  awk -v out="$3" '$1 != 200 { bad = 1 } { printf "%.3f\n", $2 * 1000 > out } END { exit bad }' "$3.raw"
}

# measure_read ID_P50 ID_P99 WHAT URL NOTES: the first GET (cold: caches empty, new connection)
# saves the answer for nginx to serve; then READ_REQUESTS sequential GETs of Sonde and of
# nginx's copy; two rows.
measure_read() {
  local id50=$1 id99=$2 what=$3 url=$4 notes=$5 file first size s50 s99 smax n50 n99 nmax
  file=$(tr . _ <<<"$id50").out
  first=$(curl -fsS --max-time 120 -o "$WORK/nginx/static/$file" -w '%{time_total}' "$url") ||
    die "GET $url failed"
  chmod 644 "$WORK/nginx/static/$file"
  size=$(stat -c %s "$WORK/nginx/static/$file")
  [ "$(curl -fsS -o /dev/null -w '%{size_download}' "$NGINX_URL/static/$file")" = "$size" ] ||
    die "nginx does not serve the $size bytes of $file"
  seq_get "$url" "$READ_REQUESTS" "$WORK/$file.sonde" || die "GET $url: not every answer was a 200"
  read -r s50 s99 smax <<<"$(pctl "$WORK/$file.sonde" 50 99 100)"
  log "sonde GET $url: $READ_REQUESTS requests, p50 $s50 p99 $s99 max $smax ms"
  seq_get "$NGINX_URL/static/$file" "$READ_REQUESTS" "$WORK/$file.nginx" || die "nginx static: errors"
  read -r n50 n99 nmax <<<"$(pctl "$WORK/$file.nginx" 50 99 100)"
  log "nginx, the same $size bytes: p50 $n50 p99 $n99 max $nmax ms"
  row "$id50" "$what: p50 latency" "$s50" "nginx serving the same bytes from a file (limit)" "$n50" \
    "ms" "Answer: $size bytes ($(fmt "$(calc "$size / 1048576")") MiB). $READ_REQUESTS sequential GETs over one keep-alive connection (curl, time to the last byte). First request (cold, new connection): $(fmt "$(calc "$first * 1000")") ms. $notes"
  row "$id99" "$what: p99 latency" "$s99" "nginx p99" "$n99" "ms" \
    "Max $(fmt "$smax") ms (nginx $(fmt "$nmax") ms)."
}

# wait_idle PID SECONDS: until the process used at most one clock tick of CPU in a second.
wait_idle() {
  local end=$((SECONDS + $2)) a b
  b=$(cpu_ticks "$1")
  while [ $SECONDS -lt $end ]; do
    sleep 1
    a=$b; b=$(cpu_ticks "$1")
    [ $((b - a)) -gt 1 ] || return 0
  done
  log "pid $1 still busy after $2 s"
}

# Scenario 4 at 100 000 checks, in steady state. Process checks cannot show it within the time
# budget (their start-up burst lasts minutes: 4.9), so the same schedule (intervals 1s..1h,
# evenly spread) runs in-process TCP probes of nginx, whose first runs are spread over their first
# interval (at most 10 s): after SCALE_PROBE_SETTLE seconds the daemon is in steady state, about
# n * ln(3600) / 3599 runs/s. Lateness comes from /api/history for the PROBE_SAMPLE probes with
# the shortest intervals (the only ones with several runs in the window).

# history_lateness N_SAMPLE FROM TO OUT: lateness in ms (cadence_lateness) of
# probes p0..p(N-1), with interval 1 + floor(i * 3599 / (SCALE_LARGE - 1)) s, starts in
# [FROM, TO].
history_lateness() {
  local k=$1 i ids=()
  for ((i = 0; i < k; i++)); do ids+=("$i"); done
  history_starts p 200 "$4.starts" "${ids[@]}"
  { for i in "${ids[@]}"; do echo "iv $i $((1 + i * 3599 / (SCALE_LARGE - 1)))"; done
    cat "$4.starts"; } | cadence_lateness "$2" "$3" >"$4"
}

scenario_scale_probes() {
  local n=$SCALE_LARGE d=$WORK/scale-probes load
  load=$(loadavg)
  log "scenario 4: scheduler scale, $n in-process TCP probes, intervals 1s..1h, steady state"
  mkdir -p "$d/checks"
  awk -v n="$n" -v addr="127.0.0.1:$NGINX_PORT" 'BEGIN {
    for (i = 0; i < n; i++) {
      iv = 1 + int(i * 3599 / (n - 1));
      printf "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: p%d\n  namespace: bench\nspec:\n  runInterval: %ds\n  timeout: 5s\n  probe:\n    tcp:\n      address: %s\n", i, iv, addr
    }
  }' >"$d/checks/probes.yaml"
  start_sonde scale-probes "$d/checks" "$PROBE_CAP"
  wait_loaded 300
  local load_s rss_loaded c0 c1 t0 t1 s0 s1
  load_s=$(calc "$LOADED_S - $LAUNCH_S")
  rss_loaded=$(calc "$(rss_kib "$SONDE_PID") / 1024")
  sleep "$SCALE_PROBE_SETTLE"
  # Before the first /json read, whose StatusPageCache stays until 5 minutes after the last read.
  local rss_unread
  rss_unread=$(calc "$(rss_kib "$SONDE_PID") / 1024")
  c0=$(runs_done); t0=$(cpu_ticks "$SONDE_PID"); s0=$(date +%s.%N)
  sleep "$STEADY_WINDOW"
  t1=$(cpu_ticks "$SONDE_PID"); s1=$(date +%s.%N); c1=$(runs_done)
  local rss cpu rate fails late_n p50 p99 pmax
  rss=$(calc "$(rss_kib "$SONDE_PID") / 1024")
  cpu=$(calc "($t1 - $t0) * 100 / $CLK_TCK / ($s1 - $s0)")
  rate=$(calc "($c1 - $c0) / ($s1 - $s0)")
  fails=$(failures_done)
  history_lateness "$PROBE_SAMPLE" "$s0" "$s1" "$d/late.txt"
  stop_sonde
  late_n=$(wc -l <"$d/late.txt")
  [ "$late_n" -gt 0 ] || die "no probe intervals measured at $n probes"
  read -r p50 p99 pmax <<<"$(pctl "$d/late.txt" 50 99 100)"
  log "sonde: $n probes: loaded in $(fmt "$load_s") s; steady $(fmt "$rate") runs/s, CPU $(fmt "$cpu")%, RSS $(fmt "$rss") MiB; lateness over $late_n intervals: p50 $p50 p99 $p99 max $pmax ms; $fails failed runs"
  local what="$n in-process TCP probes of nginx (connect only), intervals 1s..3600s evenly spread, --max-concurrent-runs $PROBE_CAP; measured over ${STEADY_WINDOW}s after ${SCALE_PROBE_SETTLE}s of settling (first runs are spread over each probe's first interval, at most 10 s)"
  row 4.13 "Scheduler, $n checks (in-process probes): steady-state lateness p99" "$p99" "—" "—" "ms" \
    "$what. Lateness = how far each start lies behind the probe's cadence (k-th start − k × interval − its most punctual such offset), from /api/history, for the $PROBE_SAMPLE probes with the shortest intervals (1–$((1 + (PROBE_SAMPLE - 1) * 3599 / (n - 1))) s): $late_n intervals, p50 $p50, max $pmax ms. Steady load $(fmt "$rate") runs/s; $fails failed runs (since load). Target (issue #7): p99 under 5 ms. Process checks at this size: 4.9, 4.11, 4.12. Load average at start: $load."
  row 4.14 "Scheduler, $n checks (in-process probes): daemon CPU at steady state" "$cpu" "—" "—" "% of a core" \
    "As 4.13; includes running the probes ($(fmt "$rate") a second) and committing each run."
  row 4.15 "Scheduler, $n checks (in-process probes): RSS at steady state" "$rss" "—" "—" "MiB" \
    "As 4.13, at the end of the window, after two reads of /json (the window's run counts), which keep the page's incremental cache (StatusPageCache: the last body and 72 bytes a check) until 5 minutes after the last read. RSS after ${SCALE_PROBE_SETTLE}s of settling, before any read: $(fmt "$rss_unread") MiB. RSS once loaded: $(fmt "$rss_loaded") MiB; load time $(fmt "$load_s") s. Target (issue #7): under 200 MB."
}

# ---------------------------------------------------------------------------------------------
# Scenario 5: read paths with READ_CHECKS heartbeat checks, each with one report (a tenth of
# them failing with two errors), so every check has a state with a last run and nothing runs
# while the pages are read.

scenario_reads() {
  local d=$WORK/reads n=$READ_CHECKS load line
  load=$(loadavg)
  log "scenario 5: read paths with $n heartbeat checks, one report each"
  mkdir -p "$d/checks"
  gen_heartbeats "$n" "$d/checks/heartbeats.yaml" r
  start_sonde reads "$d/checks" 32
  wait_loaded 120
  wait_for "$n heartbeat URLs" 120 urls_ready "$d" "$n"
  # /api/checks (urls_ready) just filled the uptime cache, before any report.
  awk -v ok="$d/ok.txt" -v fail="$d/fail.txt" 'NR % 10 == 0 { print $0 "/fail" > fail; next } { print > ok }' "$d/urls.txt"
  line=$("$BIN/httpload" --requests "$d/ok.txt" --connections "$CONNS" --expect 200) ||
    die "OK reports: $line"
  line=$("$BIN/httpload" --requests "$d/fail.txt" --connections "$CONNS" --expect 200 \
    --body '{"OK":false,"Errors":["backup of db-7 failed: disk quota exceeded (used 512.0 GiB of 512.0 GiB)","upload to s3://backups/db-7/2026-11-27.tar.zst timed out after 30s"]}') ||
    die "failure reports: $line"
  local runs fails
  runs=$(runs_done); fails=$(failures_done)
  [ "$runs" = "$n" ] && [ "$fails" = "$(wc -l <"$d/fail.txt")" ] ||
    die "expected $n runs with $(wc -l <"$d/fail.txt") failures, /json shows $runs and $fails"
  wait_idle "$SONDE_PID" 30
  local what="$n heartbeat checks (nothing runs during the reads), each with one report ($fails failing with two errors)"
  measure_read 5.1 5.2 "GET / (v2 status JSON), $n checks" "$SONDE_URL/" \
    "$what. Target (issue #7): under 20 ms. Load average at start: $load."
  measure_read 5.3 5.4 "GET /json (v3 status JSON), $n checks" "$SONDE_URL/json" "Target: under 20 ms."
  # The uptime cache's entries were computed before the reports (by /api/checks above); each
  # check's new result refreshes its entry, so the first /metrics recomputes them all (no wait
  # for them to expire: that took 61 s before the cache watched committed states).
  measure_read 5.5 5.6 "GET /metrics (Prometheus text), $n checks" "$SONDE_URL/metrics" \
    "Target: under 20 ms. With five uptime windows per check from the uptime cache: the first request computed every entry (about ten indexed store queries per check) and every check's lines (MetricsCache); later requests re-render only checks that changed and refresh slices of the uptime entries (they live 30–60 s)."
  grep -q '^sonde_check_uptime_ratio{' "$WORK/nginx/static/5_5.out" ||
    die "/metrics has no uptime series: the measurement would leave out the uptime cache"
  READS_RSS_MIB=$(calc "$(rss_kib "$SONDE_PID") / 1024")
  log "RSS after the reads, $n checks with one run each: $READS_RSS_MIB MiB"
  stop_sonde
}

# ---------------------------------------------------------------------------------------------
# Scenario 6: memory at idle. Heartbeat checks without reports: loaded, scheduled (each waits
# for its first report), nothing runs.

scenario_memory() {
  local d=$WORK/memory n load first="" last="" rss_first rss_last
  load=$(loadavg)
  local id=1
  for n in $MEM_LEVELS; do
    log "scenario 6: memory at idle, $n heartbeat checks"
    mkdir -p "$d/$n/checks"
    gen_heartbeats "$n" "$d/$n/checks/heartbeats.yaml" m
    start_sonde "memory_$n" "$d/$n/checks" 32
    wait_loaded 300
    local load_s rss hwm
    load_s=$(calc "$LOADED_S - $LAUNCH_S")
    # The start-up work (parsing, every check's URL token written to the store) ends; then idle.
    wait_idle "$SONDE_PID" 60
    sleep 2
    rss=$(rss_kib "$SONDE_PID"); hwm=$(hwm_kib "$SONDE_PID")
    # Idle CPU: what holding this many checks costs when none is due.
    local c0 c1 s0 s1
    c0=$(cpu_ticks "$SONDE_PID"); s0=$(date +%s.%N)
    sleep "$MEM_IDLE_WINDOW"
    c1=$(cpu_ticks "$SONDE_PID"); s1=$(date +%s.%N)
    IDLE_CPU[$n]=$(calc "($c1 - $c0) * 100 / $CLK_TCK / ($s1 - $s0)")
    stop_sonde
    log "$n checks: RSS $rss KiB (peak $hwm KiB), loaded in $load_s s"
    local target=""
    [ "$n" = 1000 ] && target=" Target (issue #7): under 20 MiB."
    [ "$n" = 100000 ] && target=" Target (issue #7): under 200 MiB."
    row "6.$id" "Memory: RSS at idle, $n checks" "$(calc "$rss / 1024")" "—" "—" "MiB" \
      "$n heartbeat checks (spec.heartbeat, every 1h), loaded and waiting for their first report: nothing runs. Measured once the daemon's CPU use fell below one tick a second after loading, plus 2 s. Peak RSS (VmHWM, while loading): $(fmt "$(calc "$hwm / 1024")") MiB; start to loaded: $(fmt "$load_s") s; YAML $(du -h "$d/$n/checks/heartbeats.yaml" | cut -f1).$target$( [ "$id" = 1 ] && echo " Load average at start: $load.")"
    [ -n "$first" ] || { first=$n; rss_first=$rss; }
    last=$n; rss_last=$rss
    id=$((id + 1))
  done
  if [ "$last" != "$first" ]; then
    local extra=""
    [ -n "${READS_RSS_MIB:-}" ] && extra=" For comparison, scenario 5's daemon ($READ_CHECKS checks, one run each, after serving the reads): $(fmt "$READS_RSS_MIB") MiB."
    row "6.$id" "Memory: bytes per check" "$(calc "($rss_last - $rss_first) * 1024 / ($last - $first)")" \
      "—" "—" "bytes" "(RSS with $last checks − RSS with $first) ÷ $((last - first)), at idle (rows above): the daemon's whole memory per loaded check (spec, state, schedule entry, heartbeat entry and token, status-page caches), not a heap profile.$extra"
  fi
  id=$((id + 1))
  row "6.$id" "Idle CPU with $last checks" "${IDLE_CPU[$last]}" "—" "—" "% of a core" \
    "The daemon of 6.$((id - 2)) ($last heartbeat checks, none due): utime+stime over ${MEM_IDLE_WINDOW}s once idle (resolution one clock tick over the window). Target (issue #7, 100 000 checks): under 2 % of a core. With $first checks: $(fmt "${IDLE_CPU[$first]}") %."
}

# ---------------------------------------------------------------------------------------------
# Scenario 7: a year of history. sonde_histfill commits HIST_RUNS runs of HIST_CHECKS checks,
# spread over 365 days, through SqliteStore::CommitRun (the daemon's own write path), with the
# store's clock following the runs so that the default retention prunes what a daemon running
# through that year would have pruned. Then the daemon serves that state directory.

scenario_history() {
  local d=$WORK/history load line
  load=$(loadavg)
  [ -x "$HISTFILL_BIN" ] || die "no $HISTFILL_BIN: configure with -DSONDE_MICROBENCH=ON and build the sonde_histfill target (make bench does)"
  log "scenario 7: a year of history, $HIST_RUNS runs of $HIST_CHECKS checks (at most ${HIST_MAX_SECONDS}s)"
  mkdir -p "$d/checks"
  line=$("$HISTFILL_BIN" --state-dir "$d/state" --checks "$HIST_CHECKS" --runs "$HIST_RUNS" \
    --days 365 --prefix y --plain "$d/plain.db" --max-seconds "$HIST_MAX_SECONDS") ||
    die "sonde_histfill failed: $line"
  log "histfill: $line"
  rm -f "$d/plain.db" "$d/plain.db-wal" "$d/plain.db-shm"
  local runs kept used file
  runs=$(kv "$line" runs); kept=$(kv "$line" runs_kept)
  file=$(kv "$line" db_bytes)
  used=$(calc "$file - $(kv "$line" free_pages) * $(kv "$line" page_size)")
  awk -v n="$HIST_CHECKS" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: y%d\n  namespace: bench\nspec:\n  runInterval: 1h\n  heartbeat: {grace: 1h}\n", i
  }' >"$d/checks/year.yaml"
  local spacing
  spacing=$(calc "365 * 24 * 60 / ($runs / $HIST_CHECKS)")
  row 7.1 "History: runs committed per second (a year of runs through the store)" \
    "$(kv "$line" runs_per_s)" "bare SQLite table, same rows, one index, same batch and sync (limit)" \
    "$(kv "$line" plain_runs_per_s)" "runs/s" \
    "sonde_histfill: $runs runs of $HIST_CHECKS checks (each reports every $(fmt "$spacing") min; outages of 1–20 runs start at 0.5 % of OK runs; every tenth check ends failing) over 365 days, in time order, through SqliteStore::CommitRun (run row, state, downtime event, hourly and daily roll-ups; group commit of up to 512, fsync'd; retention pruning interleaved), at most 20 000 queued: $(fmt "$(kv "$line" seconds)") s. Yardstick: the same rows INSERTed into one table with an index on (check, finished), WAL, synchronous=FULL, 512 per transaction. Load average at start: $load."
  row 7.2 "History: database size per million raw runs" "$(calc "$(kv "$line" bytes_per_kept_run) * 1000000 / 1048576")" \
    "bare SQLite table (as in 7.1), per million runs" "$(calc "$(kv "$line" plain_bytes_per_run) * 1000000 / 1048576")" "MiB" \
    "Sonde: pages of the runs table and its three indexes (dbstat) ÷ the runs it holds ($kept after retention) = $(kv "$line" bytes_per_kept_run) bytes per run (after pruning, pages are not full); the yardstick's file ÷ its $runs runs = $(kv "$line" plain_bytes_per_run) bytes. Roll-ups and events are counted in 7.3, not here."
  row 7.3 "History: database after a year ($runs runs, default retention)" "$(calc "$used / 1048576")" "—" "—" "MiB" \
    "Used pages (file $(fmt "$(calc "$file / 1048576")") MiB, of which free pages $(fmt "$(calc "$(kv "$line" free_pages) * $(kv "$line" page_size) / 1048576")") MiB). Retention kept $kept raw runs (90 days), $(kv "$line" rollup_hourly) hourly roll-ups (90 days), $(kv "$line" rollup_daily) daily roll-ups, $(kv "$line" events) downtime events; runs table and indexes $(fmt "$(calc "$(kv "$line" run_table_bytes) / 1048576")") MiB, everything else $(fmt "$(calc "$(kv "$line" other_bytes) / 1048576")") MiB. Waiting for the last pruning pass after the fill: $(fmt "$(kv "$line" prune_seconds)") s."

  start_sonde history "$d/checks" 32
  wait_loaded 120
  wait_idle "$SONDE_PID" 30
  local q="namespace=bench&healthcheck=y1" u
  u=$(curl -fsS --max-time 60 "$SONDE_URL/api/uptime?$q&window=365d")
  grep -qE '"runs": *[1-9]' <<<"$u" && grep -qE '"uptime": *[0-9]' <<<"$u" ||
    die "the 365-day uptime of bench/y1 has no runs or no uptime: $u"
  [ "$(curl -fsS --max-time 60 "$SONDE_URL/api/history?$q&limit=100" | grep -c '"runUuid"')" = 100 ] ||
    die "/api/history did not return a page of 100 runs"
  local deep all
  deep=$(curl -fsS --max-time 60 -o /dev/null -w '%{time_total}' "$SONDE_URL/api/history?$q&limit=100&offset=2000")
  all=$(curl -fsS --max-time 60 -o /dev/null -w '%{time_total}' "$SONDE_URL/api/uptime?$q")
  local what
  what="bench/y1 in the year of 7.1–7.3 ($(fmt "$(calc "$runs / $HIST_CHECKS")") runs a year, $(fmt "$(calc "$kept / $HIST_CHECKS")") still raw), the daemon serving that state directory with nothing running"
  measure_read 7.4 7.5 "GET /api/uptime window=365d, a year of history" \
    "$SONDE_URL/api/uptime?$q&window=365d" \
    "$what. Answered from daily and hourly roll-ups plus the events and raw runs at the window's edges. All five windows in one request: $(fmt "$(calc "$all * 1000")") ms (curl, one request)."
  measure_read 7.6 7.7 "GET /api/history, a page of 100 runs, a year of history" \
    "$SONDE_URL/api/history?$q&limit=100" \
    "$what. The newest 100 runs; a page 2000 runs deep (offset=2000) took $(fmt "$(calc "$deep * 1000")") ms (curl, one request)."
  stop_sonde
}

# ---------------------------------------------------------------------------------------------
# Output

machine() {
  local mem cpu os
  cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  MACHINE="CPU: $cpu, $(nproc) cores; memory $mem; kernel $(uname -r); $os; work and state directories on $(df -T "$WORK" | awk 'NR == 2 {print $2 " (" $1 ")"}')"
}

write_results() {
  mkdir -p "$OUT_DIR"
  local md=$OUT_DIR/latest.md csv=$OUT_DIR/latest.csv
  # The tree the daemon was built from (SONDE_BIN may come from another worktree).
  local tree commit
  tree=$(cd "$(dirname "$SONDE_BIN")" && git rev-parse --show-toplevel 2>/dev/null || echo "$ROOT")
  commit=$(git -C "$tree" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$tree" diff --quiet HEAD -- src 2>/dev/null || commit="$commit with uncommitted changes in src/"
  {
    echo "# Sonde benchmark results"
    echo
    echo "- Date: $STARTED_AT – $(date -u +%H:%M:%SZ) ($(( SECONDS / 60 )) min $(( SECONDS % 60 )) s)"
    echo "- Machine: $MACHINE"
    echo "- Load average (1 min) at start: $LOAD_START, at end: $(loadavg) — other work on the machine skews absolute figures; ratios come from one run"
    echo "- Sonde: $("$SONDE_BIN" version 2>/dev/null | head -1), built from commit $commit ($SONDE_BIN)"
    echo "- Yardsticks: $(nginx -v 2>&1 | sed 's/^nginx version: //'), pushgateway $(prometheus-pushgateway --version 2>&1 | sed -n 's/.*version \([^ ]*\) .*/\1/p' | head -1), blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | sed -n 's/.*version \([^ ]*\) .*/\1/p' | head -1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "- Ratio = Sonde ÷ yardstick (throughput: below 1 is slower; latency, time, CPU, memory: above 1 is more)"
    echo
    echo "| # | Figure | Sonde | Yardstick | Yardstick figure | Ratio | Unit | Notes |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$ROWS"
  } >"$md"
  {
    echo "id,figure,sonde,yardstick,yardstick_figure,ratio,unit,notes,date,machine"
    awk -F'\t' -v date="$STARTED_AT" -v machine="$MACHINE; load average at start $LOAD_START" '
      function q(s) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
      { print q($1) "," q($2) "," q($3) "," q($4) "," q($5) "," q($6) "," q($7) "," q($8) "," q(date) "," q(machine) }' "$ROWS"
  } >"$csv"
  log "wrote $md and $csv"
}

# ---------------------------------------------------------------------------------------------

if [ "$QUIET_WAIT" -gt 0 ]; then
  log "waiting up to ${QUIET_WAIT}s for the load average ($(loadavg)) to drop below 1"
  quiet_end=$((SECONDS + QUIET_WAIT))
  while [ $SECONDS -lt $quiet_end ] && [ "$(calc "$(loadavg) >= 1")" = 1 ]; do sleep 5; done
fi
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_START=$(loadavg)
machine
log "$MACHINE; load average $LOAD_START; work directory $WORK"
build_tools
start_nginx
start_pushgateway
start_blackbox
for scenario in $SCENARIOS; do "scenario_$scenario"; done
write_results
FAILED=0
cat "$OUT_DIR/latest.md"
