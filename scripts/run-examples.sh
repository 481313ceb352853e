#!/usr/bin/env bash
# `make run`: serves examples/ with the loopback targets its probes and bundled checks need
# besides the daemon itself: a TLS server on 127.0.0.1:8443 (a CA and a 90-day certificate for
# localhost made here by openssl) and a DNS server (dnsmasq) on 127.0.0.1:5353 that answers
# sonde.example. Both stop with the daemon.
# Usage: scripts/run-examples.sh SONDE_BINARY LISTEN STATE_DIR
set -euo pipefail
sonde=$1 listen=$2 state=$3
mkdir -p "$state/targets"
targets=$(cd "$state/targets" && pwd)  # absolute: dnsmasq changes directory

if [ ! -s "$targets/leaf.pem" ] ||
  ! openssl x509 -checkend 604800 -noout -in "$targets/leaf.pem" >/dev/null 2>&1; then
  ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  # shellcheck disable=SC2086  # $ec is several options
  openssl req -x509 $ec -keyout "$targets/ca.key" -out "$targets/ca.pem" -days 365 \
    -subj "/CN=Sonde examples CA" 2>/dev/null
  # shellcheck disable=SC2086
  openssl req $ec -keyout "$targets/leaf.key" -out "$targets/leaf.csr" -subj /CN=localhost 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$targets/ext.cnf"
  openssl x509 -req -in "$targets/leaf.csr" -CA "$targets/ca.pem" -CAkey "$targets/ca.key" \
    -CAcreateserial -days 90 -extfile "$targets/ext.cnf" -out "$targets/leaf.pem" 2>/dev/null
fi

pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

openssl s_server -quiet -www -accept 127.0.0.1:8443 -cert "$targets/leaf.pem" \
  -key "$targets/leaf.key" >"$targets/tls.log" 2>&1 </dev/null &
pids+=($!)
dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --port=5353 \
  --listen-address=127.0.0.1 --bind-interfaces --user="$(id -un)" --pid-file= \
  --address=/sonde.example/127.0.0.1 --log-facility="$targets/dns.log" &
pids+=($!)

# Both listen on TCP (dnsmasq too); give them a moment so that the first runs find them.
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/8443 && exec 4<>/dev/tcp/127.0.0.1/5353) 2>/dev/null && break
  sleep 0.1
done

"$sonde" serve --listen "$listen" --checks examples --state-dir "$state"
