# shellcheck shell=bash
# Sonde's bash client (Kuberhealthy-compatible). Source it:
#
#   source kh.sh
#   kh::report_success                         # a checker run by Sonde (or Kuberhealthy)
#   kh::report_failure "disk /data is full" "replica lag 30s"
#   kh::heartbeat "$URL" -- pg_dump mydb       # a job reporting to a heartbeat check
#
# Reports go to $KH_REPORTING_URL with the run's kh-run-uuid header, like Kuberhealthy's own
# clients, and are retried with exponential back-off for at most $KH_RETRY_SECONDS (30) on any
# answer but 200 and 400 (Kuberhealthy's rule: a 400 will not get better by retrying).
# Needs curl. Functions return 0 when the report landed, 1 otherwise; kh::heartbeat returns the
# command's exit code. Nothing here calls exit or changes shell options.

# kh::_json TEXT: TEXT as a JSON string (quotes, backslashes and control characters escaped;
# invalid UTF-8 dropped, as the daemon would refuse it).
kh::_json() {
  local s
  s=$(printf '%s' "$1" | iconv -c -f UTF-8 -t UTF-8 2>/dev/null | tr -d '\000-\010\013\014\016-\037')
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# kh::_now_ms: milliseconds since the epoch (bash 5's EPOCHREALTIME; no subprocess).
kh::_now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

# kh::_post URL BODY: POSTs BODY (JSON) with the retry rule above.
kh::_post() {
  local url=$1 body=$2 code delay_ms=250
  local deadline=$(($(kh::_now_ms) + ${KH_RETRY_SECONDS:-30} * 1000))
  local -a headers=(-H 'Content-Type: application/json')
  [ -n "${KH_RUN_UUID:-}" ] && headers+=(-H "kh-run-uuid: $KH_RUN_UUID")
  while :; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X POST "${headers[@]}" \
      --data-binary "$body" "$url") || code=000
    case $code in
      200) return 0 ;;
      400) echo "kh: $url refused the report (400)" >&2; return 1 ;;
    esac
    # The last wait is cut short so the final try lands on the deadline: the whole budget is
    # used, whatever a slow curl took out of it.
    local left=$((deadline - $(kh::_now_ms))) wait_ms=$delay_ms
    if [ "$left" -le 0 ]; then
      echo "kh: giving up on $url (last answer: $code)" >&2
      return 1
    fi
    [ "$left" -lt "$wait_ms" ] && wait_ms=$left
    sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
    delay_ms=$((delay_ms * 2 > 8000 ? 8000 : delay_ms * 2))
  done
}

kh::report_success() {
  kh::_post "${KH_REPORTING_URL:?KH_REPORTING_URL is not set}" '{"OK":true,"Errors":[]}'
}

# kh::report_failure ERROR...: at least one non-empty error.
kh::report_failure() {
  local errors="" e
  [ $# -gt 0 ] || set -- "failed (no reason given)"
  for e in "$@"; do errors+="${errors:+,}$(kh::_json "$e")"; done
  kh::_post "${KH_REPORTING_URL:?KH_REPORTING_URL is not set}" "{\"OK\":false,\"Errors\":[$errors]}"
}

# kh::heartbeat URL [--] COMMAND [ARGS...]: tells the heartbeat check at URL that the job
# starts (one try), runs it (its output still goes to stdout, stderr merged in), then reports success or,
# on a non-zero exit, /fail with the exit code and the last $KH_TAIL_BYTES (2000) bytes of output.
# Returns the command's exit code.
kh::heartbeat() {
  local url=${1%/} out rc
  shift
  [ "${1:-}" = -- ] && shift
  KH_RETRY_SECONDS=0 kh::_post "$url/start" '' || true  # tried once: never hold the job back
  out=$(mktemp) || return 1
  { rc=0; "$@" 2>&1 || rc=$?; echo "$rc" >"$out.rc"; } | tee "$out"
  rc=$(cat "$out.rc")
  if [ "$rc" = 0 ]; then
    kh::_post "$url" '{"OK":true}' || true
  else
    local tail errors
    tail=$(tail -c "${KH_TAIL_BYTES:-2000}" "$out")
    errors=$(kh::_json "$* exited with code $rc")
    [ -n "$tail" ] && errors+=",$(kh::_json "output tail: $tail")"
    kh::_post "$url/fail" "{\"OK\":false,\"Errors\":[$errors]}" || true
  fi
  rm -f "$out" "$out.rc"
  return "$rc"
}
