#!/usr/bin/env bash
# Installs the Debian 12 packages Sonde needs to build and test, only those missing, and the
# dashboard's npm packages (web/) when web/node_modules is missing or out of date.
# Idempotent and quiet when everything is there already.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libspdlog-dev libcli11-dev libssl-dev libsqlite3-dev libldns-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  libabsl-dev
  curl procps prometheus openssl dnsmasq-base
  python3  # the web server that tests/kube runs as the deployment check's pods
  chromium  # the dashboard's browser tests (tests/e2e)
)
# The dashboard's build (web/) needs node and npm; any install of them will do (Debian's
# nodejs 18 and npm 9, or NodeSource's nodejs, which bundles npm and conflicts with Debian's).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    apt_get=(apt-get)
  elif command -v sudo >/dev/null 2>&1; then
    apt_get=(sudo apt-get)
  else
    echo "setup: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${apt_get[@]}" update -qq
  "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The dashboard's npm packages (esbuild; playwright-core and axe-core for the tests), exactly as
# web/package-lock.json pins them: again whenever the lockfile changes.
web="$(cd "$(dirname "$0")/.." && pwd)/web"
stamp="$web/node_modules/.sonde-lock.sha256"
want="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci in web/"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi
