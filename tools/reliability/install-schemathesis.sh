#!/usr/bin/env bash
# Installs schemathesis, pinned, into its own virtualenv under .tools/ of the
# repository (git-ignored). Idempotent: a venv stamped with this version is
# kept. Concurrent runs wait for each other. Prints the st executable's path.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/.tools"
venv="$tools/schemathesis-venv"
stamp="$venv/.schemathesis.version"
mkdir -p "$tools"
# The folder ignores itself: nothing installed here is ever committed.
[ -f "$tools/.gitignore" ] || printf '*\n' >"$tools/.gitignore"

exec 9>"$tools/.schemathesis.lock"
flock 9

if [ -x "$venv/bin/st" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$SCHEMATHESIS_VERSION" ]; then
  echo "$venv/bin/st"
  exit 0
fi
command -v python3 >/dev/null || { echo "install-schemathesis: python3 is required" >&2; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
printf '%s\n' "$SCHEMATHESIS_VERSION" >"$stamp"
echo "$venv/bin/st"
