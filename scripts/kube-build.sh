#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager v1.20.2 for the Kubernetes tests (tests/kube),
# offline, from Debian 12's own `kubernetes` source package, once, into a cache outside the build
# tree:
#   ${SONDE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sonde/kube-v1.20.2}/{bin,stamp}
# Reused while the stamp matches this recipe (quiet, well under a second); a changed RECIPE rebuilds.
# Also installs etcd-server (the tests' etcd) and the build tools when missing. The recipe and why
# each step is needed: docs/testing-kubernetes.md. Prints the cache directory's bin/ on success.
#   scripts/kube-build.sh          build if needed
#   scripts/kube-build.sh --force  rebuild
set -euo pipefail

KUBE_VERSION=v1.20.2
# Bump when the steps below change, so every cache rebuilds.
RECIPE="kube=${KUBE_VERSION} src=kubernetes/1.20.5+really1.20.2 recipe=1"
cache="${SONDE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sonde/kube-${KUBE_VERSION}}"
binaries=(kube-apiserver kube-controller-manager)
stamp="$cache/stamp"
log="$cache/build.log"

is_built() {
  [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$RECIPE" ] || return 1
  for b in "${binaries[@]}"; do [ -x "$cache/bin/$b" ] || return 1; done
  command -v etcd >/dev/null 2>&1
}

force=0
[ "${1:-}" = "--force" ] && force=1
if [ $force -eq 0 ] && is_built; then
  exit 0
fi

mkdir -p "$cache"
# One builder at a time; a second caller waits here and then finds the stamp.
exec 9>"$cache/.lock"
flock 9
if [ $force -eq 0 ] && is_built; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  as_root=(false)
fi

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "kube-build: installing ${missing[*]}"
  if [ "${as_root[*]}" = false ]; then
    echo "kube-build: missing packages: ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# etcd is needed to run the tests, not to build: install it even when the binaries are cached.
install_missing etcd-server golang-go make rsync ca-certificates
if [ $force -eq 0 ] && is_built; then
  exit 0
fi

rm -f "$stamp"
work="$cache/work"
rm -rf "$work" "$cache/bin"
mkdir -p "$work"
# Interrupted or failed: leave no half-built tree (the Go cache alone is ~1.8 GB) and no stamp.
cleanup() {
  [ -d "$work" ] || return 0
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap 'cleanup; rm -f "$stamp.tmp"' EXIT
: >"$log"
echo "kube-build: building kube-apiserver ${KUBE_VERSION} from Debian's source (4-5 min on 2 idle cores, longer on busy ones; log: $log)"

fail() {
  echo "kube-build: FAILED: $1 (last lines of $log:)" >&2
  tail -n 40 "$log" >&2 || true
  exit 1
}

# A private apt configuration with deb and deb-src lines for the archives the system's deb lines
# for this release use; the system's apt configuration is not touched.
private_apt_config() {
  local apt="$work/apt" codename
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
  : >"$apt/empty.list"
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v c="$codename" '$1 == "deb" && $0 ~ c { print; sub(/^deb/, "deb-src"); print }' "$f"
  done >"$apt/sources.list.d/system.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: keep the stanzas of this release, asking for sources too.
    awk -v c="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
      $0 ~ ("Suites:[^\n]*" c) && $0 ~ /Types:[^\n]*deb/ {
        sub(/Types:[^\n]*/, "Types: deb deb-src"); print }' "$f"
  done >"$apt/sources.list.d/system.sources"
  apt_opts=(-o "Dir::Etc::SourceList=$apt/empty.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root"
    -o "Debug::NoLocking=1")
}

fetch_sources() {
  private_apt_config
  apt-get "${apt_opts[@]}" update >>"$log" 2>&1 || fail "apt-get update with the private deb-src configuration"
  mkdir -p "$work/dl"
  (cd "$work/dl" && apt-get "${apt_opts[@]}" source --download-only kubernetes) >>"$log" 2>&1 ||
    fail "apt-get source kubernetes"
  (cd "$work/dl" && apt-get "${apt_opts[@]}" download \
    golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev) >>"$log" 2>&1 ||
    fail "apt-get download reflect2/json-iterator"
  local orig
  orig="$(ls "$work"/dl/kubernetes_*really1.20.2.orig.tar.* 2>/dev/null | head -n1)"
  [ -n "$orig" ] || fail "no kubernetes_*really1.20.2.orig tarball in $(ls "$work/dl" | tr '\n' ' ')"
  mkdir -p "$work/src"
  tar -xf "$orig" -C "$work/src" >>"$log" 2>&1 || fail "unpacking $orig"
  src="$(dirname "$(ls -d "$work"/src/*/cmd/kube-apiserver | head -n1)")"
  src="$(dirname "$src")"
  [ -d "$src/vendor" ] || fail "unpacked source has no vendor/ ($src)"
  echo "source: $(basename "$orig")" >>"$work/provenance"
}

# Go >= 1.18 breaks the vendored reflect2 1.0.1 (every write panics): use Debian's reflect2 1.0.2
# and json-iterator 1.1.12, as upstream did for Go 1.18.
replace_vendored_json() {
  local deb pkg
  mkdir -p "$work/debs"
  for deb in "$work"/dl/*.deb; do
    dpkg-deb -x "$deb" "$work/debs" >>"$log" 2>&1 || fail "dpkg-deb -x $deb"
    echo "vendor: $(basename "$deb")" >>"$work/provenance"
  done
  for pkg in github.com/modern-go/reflect2 github.com/json-iterator/go; do
    [ -d "$work/debs/usr/share/gocode/src/$pkg" ] || fail "no $pkg in the downloaded .debs"
    rm -rf "$src/vendor/$pkg"
    cp -r "$work/debs/usr/share/gocode/src/$pkg" "$src/vendor/$pkg"
    find "$src/vendor/$pkg" -name '*_test.go' -delete
  done
}

build() {
  export GOCACHE="$work/gocache" GOPATH="$work/gopath" GO111MODULE=off GOPROXY=off GOFLAGS= \
    CGO_ENABLED=0 GOTOOLCHAIN=local
  # The generated OpenAPI definitions are not in the tarball.
  make -C "$src" gen_openapi >>"$log" 2>&1 || fail "make gen_openapi"
  mkdir -p "$GOPATH/src/k8s.io" "$work/bin"
  ln -s "$src" "$GOPATH/src/k8s.io/kubernetes"
  local v ldflags="-s -w" now
  now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # The vendor/ path is what the linker sees in GOPATH mode; without it /version says v0.0.0.
  for v in k8s.io/kubernetes/vendor/k8s.io/component-base/version \
    k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
    ldflags+=" -X $v.gitVersion=${KUBE_VERSION} -X $v.gitMajor=1 -X $v.gitMinor=20"
    ldflags+=" -X $v.gitTreeState=clean -X $v.buildDate=$now"
  done
  local b
  for b in "${binaries[@]}"; do
    echo "kube-build: go build ./cmd/$b" >>"$log"
    (cd "$GOPATH/src/k8s.io/kubernetes" && go build -o "$work/bin/$b" -ldflags "$ldflags" "./cmd/$b") \
      >>"$log" 2>&1 || fail "go build ./cmd/$b"
  done
  "$work/bin/kube-apiserver" --version >>"$log" 2>&1 || fail "the built kube-apiserver does not run"
  grep -q "Kubernetes ${KUBE_VERSION}" "$log" || fail "kube-apiserver --version does not say ${KUBE_VERSION}"
}

start=$SECONDS
fetch_sources
replace_vendored_json
build
mv "$work/bin" "$cache/bin"
{
  echo "$RECIPE"
  echo "go: $(go version)"
  cat "$work/provenance"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$stamp.tmp"
# Only the binaries and the stamp stay: not the source nor the Go build cache.
cleanup
mv "$stamp.tmp" "$stamp"
echo "kube-build: done in $((SECONDS - start)) s: $cache/bin"
