#!/usr/bin/env bash
# Fails when the committed dist/ differs from a fresh build (as actions/typescript-action's CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
# Outside a git work tree `git status` fails and the comparison below would pass vacuously.
if [ "$(git rev-parse --is-inside-work-tree 2>/dev/null)" != true ]; then
  echo "check-dist: $(pwd) is not a git work tree, so dist/ cannot be compared with the commit (is git installed, and was the checkout made with it?)" >&2
  exit 1
fi
npm run build --silent
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "dist/ is not up to date with src/: run 'npm run build' and commit dist/." >&2
  git status --porcelain -- dist >&2
  git diff --stat -- dist >&2 || true
  exit 1
fi
echo "dist/ matches a fresh build"
