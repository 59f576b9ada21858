#!/usr/bin/env bash
# Runs a command (e.g. `bash scripts/test.sh lib/test/integration/build-docker.test.js`) with the
# docker CLI 28, buildx 0.29 and the docker 28 engine of scripts/setup-docker28.sh in place of
# dockerd 26: PATH, DOCKER_HOST and a DOCKER_CONFIG of its own (removed afterwards).
set -euo pipefail
DOCKER28_PREFIX=${DOCKER28_PREFIX:-/opt/vllm-rocm-action/docker28}
DOCKER28_SOCKET=${DOCKER28_SOCKET:-/run/vllm-rocm-action/docker28.sock}
[ -x "$DOCKER28_PREFIX/bin/docker" ] || { echo "no docker 28 in $DOCKER28_PREFIX: run scripts/setup-toolchain.sh" >&2; exit 1; }
config=$(mktemp -d "${TMPDIR:-/tmp}/docker28-config.XXXXXX")
trap 'rm -rf "$config"' EXIT
mkdir -p "$config/cli-plugins"
ln -s "$DOCKER28_PREFIX/root/usr/libexec/docker/cli-plugins/docker-buildx" "$config/cli-plugins/docker-buildx"
export PATH="$DOCKER28_PREFIX/bin:$PATH" DOCKER_HOST="unix://$DOCKER28_SOCKET" DOCKER_CONFIG="$config"
docker version --format 'docker {{.Client.Version}} against dockerd {{.Server.Version}}' >&2
"$@"
