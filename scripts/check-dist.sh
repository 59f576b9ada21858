#!/usr/bin/env bash
# Fails when the committed dist/ differs from a fresh build (as actions/typescript-action's CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "dist/ is not up to date with src/: run 'npm run build' and commit dist/." >&2
  git status --porcelain -- dist >&2
  git diff --stat -- dist >&2 || true
  exit 1
fi
echo "dist/ matches a fresh build"
