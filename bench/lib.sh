# shellcheck shell=bash
# Helpers for bench/run.sh: ports, background processes that are always stopped, measurements.
# Sourced, not run.

BENCH_PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# A TCP port on 127.0.0.1 that no socket uses at the moment (listening or not), below the kernel's
# ephemeral range, so that no outgoing connection takes it before the server binds it.
free_port() {
  local p lo
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
  [ "$lo" -gt 11000 ] || lo=61000
  for _ in $(seq 200); do
    p=$((10000 + RANDOM % (lo - 10000)))
    if ! ss -Htan "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
  done
  die "no free port"
}

# start NAME LOGFILE CMD...: runs CMD in the background; sets LAST_PID and remembers the pid
# so that stop_all stops it.
start() {
  local name=$1 logf=$2
  shift 2
  "$@" >"$logf" 2>&1 &
  LAST_PID=$!
  BENCH_PIDS+=("$LAST_PID")
  log "started $name (pid $LAST_PID)"
}

# stop_pid PID: SIGTERM, then SIGKILL after 5 s; forgets the pid (it may be reused later).
stop_pid() {
  local pid=$1 p rest=()
  for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
  BENCH_PIDS=("${rest[@]}")
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do stop_pid "$pid"; done
}

# wait_for DESCRIPTION SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.1
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# key=value field of a line: kv LINE KEY
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }

# CPU time (user+system) of a process in clock ticks, and its resident set in KiB.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# shellcheck disable=SC2034  # used by run.sh
CLK_TCK=$(getconf CLK_TCK)

# Percentiles of a file of numbers, one per line: pctl FILE P... (nearest rank)
pctl() {
  local f=$1
  shift
  sort -n "$f" | awk -v ps="$*" '{v[NR]=$1} END {
    n = split(ps, p, " ");
    for (i = 1; i <= n; i++) {
      if (NR == 0) { printf "%s%s", (i>1?" ":""), "nan"; continue }
      k = int(p[i] / 100 * (NR - 1) + 0.5) + 1; if (k > NR) k = NR;
      printf "%s%s", (i>1?" ":""), v[k]
    }
    printf "\n" }'
}

# Float arithmetic: calc EXPR (awk syntax)
calc() { awk "BEGIN { printf \"%.6g\", ($*) }"; }
