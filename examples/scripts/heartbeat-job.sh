#!/usr/bin/env bash
# A job that reports to a heartbeat check with the bash client: run it by hand (or from cron)
# with the check's URL, which `sonde status` lists:
#
#   examples/scripts/heartbeat-job.sh http://127.0.0.1:8080/heartbeat/<token>
#
# It tells the check that it starts, does its work, then reports success, or the exit code and
# the last lines of output if the work fails (try it with FAIL=1).
set -euo pipefail
source "$(dirname "$0")/../../clients/bash/kh.sh"

work() {
  local archive
  archive=$(mktemp)
  echo "archiving /etc into $archive"
  tar -cf "$archive" -C / etc 2>/dev/null || true
  rm -f "$archive"
  if [ "${FAIL:-0}" = 1 ]; then
    echo "pretending the upload failed: no space left on device" >&2
    return 1
  fi
  echo "done"
}

kh::heartbeat "${1:?usage: $0 HEARTBEAT_URL}" -- work
