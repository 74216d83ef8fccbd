#!/usr/bin/env bash
# `npm run demo`: the one command for a newcomer on a fresh machine. Installs what the local test stack needs
# (Pebble, BIND 9, nsupdate), the npm packages when they are missing or older than package-lock.json, builds the
# library and installs it as a copy (programs import "pulumi-acme-certs" from node_modules, as users' do), then runs
# the main job end to end against a local Pebble + BIND (scripts/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> test stack packages (pebble, bind9, bind9-dnsutils)"
bash scripts/install-test-deps.sh

# npm writes node_modules/.package-lock.json on every install: older than package-lock.json means out of date.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> npm ci"
    npm ci --no-audit --no-fund
fi

echo "==> building the library and installing the copy in node_modules/pulumi-acme-certs"
npm run --silent build
node scripts/install-self.mjs

echo "==> the demo"
# As the harness requires (test/harness/cli.ts): tsx without the repository's `paths`, so that programs load the
# installed package, never the TypeScript source.
export TSX_TSCONFIG_PATH=tsconfig.base.json
exec node --import tsx scripts/demo.ts
