#!/usr/bin/env bash
# The README's first command: sets up the toolchain, builds the suite, and runs the whole pipeline
# (root action.yml) through the command line (dist/cli/index.js) on the bundled example
# (templates/example: a Dockerfile and a flake.nix that build the same small OpenAI API server
# image): both builders, the reproducibility check, a smoke test without a GPU, and a push to the
# local registry; then the Nix/Docker comparison. Extra arguments are more --<input> <value> pairs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-toolchain.sh
# npm on the toolchain's Node 24 (the project's engine), not the machine's older node: no EBADENGINE warnings.
export PATH="$(dirname "$(readlink -f /usr/local/bin/node24)"):$PATH"
[ -d node_modules/@actions/core ] || npm ci --no-audit --no-fund
npm run build --silent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r templates/example/. "$work/"
gcc -static -O2 -pthread -o "$work/vllm" templates/example/fake-vllm.c
node24 dist/cli/index.js pipeline --workspace "$work" \
  --builder both --verify true \
  --smoke-test true --gpu none --requests 8 \
  --publish true --image 127.0.0.1:5000/vllm-rocm-example --tags latest \
  "$@"
