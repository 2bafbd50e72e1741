#!/usr/bin/env bash
# Refreshes compose-spec.json, the Compose Specification JSON Schema that the
# compose check validates docker-compose.yml against. Source: schema/compose-spec.json
# of the Go module github.com/compose-spec/compose-go/v2 (what `docker compose`
# itself validates with), through the Go module proxy. Bump the version, run,
# commit the diff.
set -euo pipefail
COMPOSE_GO_VERSION=v2.16.2
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(cd "$here" && go mod download -json "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
cp "$dir/schema/compose-spec.json" "$here/compose-spec.json"
chmod 644 "$here/compose-spec.json"
echo "compose-spec.json from github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION"
