#!/usr/bin/env bash
# Installs what the benchmark needs beyond `make build`'s packages, only what is missing:
# the load generator and the yardsticks. Idempotent and quiet when everything is there.
# Package installs must not start system services (Debian's nginx would take port 80, the
# Prometheus packages their default ports): a policy-rc.d refuses every start during the
# install, and the bench never uses system services anyway (it runs its own instances on free
# loopback ports).
set -euo pipefail

packages=(wrk nginx-light prometheus-pushgateway prometheus-blackbox-exporter gcc g++ curl procps)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
# Any nginx flavour will do.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
  missing=("${missing[@]/nginx-light}")
fi
read -ra missing <<<"${missing[*]}"
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bench setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "bench setup: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=1
fi
cleanup() { [ "$made_policy" -eq 1 ] && rm -f "$policy"; return 0; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
