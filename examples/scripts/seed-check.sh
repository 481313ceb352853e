#!/usr/bin/env bash
# A seed-style end-to-end check: any failing step stops the script (set -e) and the daemon
# records the exit code and stderr; success is reported exactly as the seed's run.sh does.
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "job for $RUNTIME on $RESOURCE" >"$work/job"
grep -q "$RUNTIME" "$work/job"
getent hosts localhost >/dev/null

curl --silent --show-error --fail --location --request POST "$KH_REPORTING_URL" \
  --header 'Content-Type: application/json' \
  --data-raw '{ "OK": true }'
