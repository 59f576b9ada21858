#!/usr/bin/env bash
# Sets up the toolchain, builds the suite, and runs the whole pipeline (root action.yml) on the
# bundled example (templates/example-docker) as the runner would, with the Actions cache stand-in.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-toolchain.sh
[ -d node_modules/@actions/core ] || npm ci --no-audit --no-fund
npm run build --silent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r templates/example-docker/. "$work/"
install -m 0755 /bin/busybox "$work/busybox"
node24 lib/test/support/run-action-cli.js . --workspace "$work" --input cache=local --input build-args=GFX_ARCH=gfx1151 "$@"
