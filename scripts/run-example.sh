#!/usr/bin/env bash
# Sets up the toolchain, builds the suite, and runs the whole pipeline (root action.yml) on the
# bundled example (templates/example: a Dockerfile and a flake.nix that build the same small
# OpenAI API server image) as the runner would, with the Actions services stand-in: both builders,
# the reproducibility check, a smoke test without a GPU, and a push to the local registry. Then
# prints the Nix/Docker comparison. Extra arguments are more --input name=value pairs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-toolchain.sh
[ -d node_modules/@actions/core ] || npm ci --no-audit --no-fund
npm run build --silent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r templates/example/. "$work/"
gcc -static -O2 -pthread -o "$work/vllm" templates/example/fake-vllm.c
out="$work/run.log"
status=0
node24 lib/test/support/run-action-cli.js . --workspace "$work" \
  --input builder=both --input verify=true \
  --input smoke-test=true --input gpu=none --input requests=8 \
  --input publish=true --input image=127.0.0.1:5000/vllm-rocm-example --input tags=latest \
  "$@" > "$out" 2>&1 || status=$?
# The log in full, then the comparison (the job summary's last section) on its own.
cat "$out"
echo
sed -n '/^### Nix and Docker, side by side/,/^```mermaid/p' "$out" | sed '$d'
exit "$status"
