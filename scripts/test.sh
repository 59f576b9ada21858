#!/usr/bin/env bash
# The README's test command: sets up the real toolchain, builds, and runs every test
# (unit and integration) on Node 24, the runtime of node24 actions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-toolchain.sh
# npm and the tests on the toolchain's Node 24 (the project's engine and the node24 actions' runtime).
export PATH="$(dirname "$(readlink -f /usr/local/bin/node24)"):$PATH"
[ -d node_modules/@actions/core ] || npm ci --no-audit --no-fund
npm run build --silent
node --version | grep -q '^v24\.' || { echo "tests must run on Node 24" >&2; exit 1; }
# One file at a time: the integration tests share one dockerd and one registry.
exec node --test --test-concurrency=1 --test-reporter=spec "${@:-lib/test/**/*.test.js}"
