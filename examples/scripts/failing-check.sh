#!/usr/bin/env bash
# Tries a loopback address where nothing listens and reports the failure with its reason.
set -uo pipefail

if out=$(curl --silent --show-error --max-time 3 "$TARGET" 2>&1); then
  body='{"ok": true, "errors": []}'
else
  reason=${out//\"/\'}
  body="{\"ok\": false, \"errors\": [\"GET $TARGET failed: $reason\", \"this example fails on purpose\"]}"
fi
curl --silent --show-error --fail --request POST "$KH_REPORTING_URL" \
  --header "kh-run-uuid: $KH_RUN_UUID" --header 'Content-Type: application/json' \
  --data-raw "$body"
