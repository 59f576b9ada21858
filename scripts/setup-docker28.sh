#!/usr/bin/env bash
# A SECOND container engine beside the toolchain's dockerd 26: Docker Engine 28 + buildx 0.29 from
# Debian sid, the versions GitHub's hosted runners have (buildx >= 0.21 speaks the v2 cache
# service, so `cache: gha` can be tested for real). sid's binaries are static Go builds that run
# on Debian 12's libc, so the .debs are only downloaded (a private apt state: the system's sources,
# lists and pins are untouched) and unpacked with `dpkg -x`, never installed: installing them
# would pull sid's libc.
#
# The engine shares nothing with dockerd 26: its own socket, data root, exec root, pidfile,
# config file (never /etc/docker/daemon.json), bridge and containerd (its own process, socket, root
# and state). iptables are left alone. Its CLI is reached through
# $DOCKER28_PREFIX/bin/docker28 or with
#   PATH=$DOCKER28_PREFIX/bin:$PATH DOCKER_HOST=unix://$DOCKER28_SOCKET DOCKER_CONFIG=<dir>
# where <dir>/cli-plugins/docker-buildx is buildx 0.29 (test/support/docker28.ts does this).
#
# Idempotent: a second run only checks the versions and that the engine answers.
set -euo pipefail

DOCKER28_PREFIX=${DOCKER28_PREFIX:-/opt/vllm-rocm-action/docker28}
DOCKER28_DATA=${DOCKER28_DATA:-/var/lib/vllm-rocm-action/docker28}
DOCKER28_RUN=${DOCKER28_RUN:-/run/vllm-rocm-action/docker28}
DOCKER28_SOCKET=${DOCKER28_SOCKET:-/run/vllm-rocm-action/docker28.sock}
DOCKER28_BRIDGE=${DOCKER28_BRIDGE:-vra-docker28}
DOCKER28_BRIDGE_CIDR=${DOCKER28_BRIDGE_CIDR:-172.30.228.1/24}
LOG_DIR=${TOOLCHAIN_LOG_DIR:-/var/log/vllm-rocm-action}
# The versions under test; sid moves on, so anything from these series is accepted.
WANT_DOCKER='^28\.'
WANT_BUILDX='^0\.(2[1-9]|[3-9][0-9])\.'

log() { printf '[setup-docker28] %s\n' "$*"; }
die() { printf '[setup-docker28] error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
mkdir -p "$LOG_DIR"

root="$DOCKER28_PREFIX/root"
dockerd_bin="$root/usr/sbin/dockerd"
docker_bin="$root/usr/bin/docker"
buildx_bin="$root/usr/libexec/docker/cli-plugins/docker-buildx"

versions_ok() {
  [ -x "$dockerd_bin" ] && [ -x "$docker_bin" ] && [ -x "$buildx_bin" ] || return 1
  "$dockerd_bin" --version | grep -Eq "version ${WANT_DOCKER#^}" || return 1
  "$buildx_bin" version | awk '{print $2}' | sed 's/^v//' | grep -Eq "$WANT_BUILDX"
}

# --- binaries: docker.io, docker-cli, docker-buildx from sid, unpacked ---------------------------
if ! versions_ok; then
  log "downloading docker.io, docker-cli and docker-buildx from sid into $DOCKER28_PREFIX"
  apt_dir="$DOCKER28_PREFIX/apt"
  rm -rf "$apt_dir" "$root.new"
  mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$root.new"
  cat > "$apt_dir/sources/sid.sources" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Only sid, only for this download: the system's apt sources, lists and pins stay as they are.
  apt_opts=(
    -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources"
    -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$apt_dir/sources"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -o "Acquire::Languages=none"
  )
  apt-get "${apt_opts[@]}" update -q >"$LOG_DIR/docker28-apt.log" 2>&1 \
    || { tail -20 "$LOG_DIR/docker28-apt.log" >&2; die "apt-get update (sid) failed"; }
  (cd "$apt_dir/cache/archives" && apt-get "${apt_opts[@]}" download docker.io docker-cli docker-buildx) >>"$LOG_DIR/docker28-apt.log" 2>&1 \
    || { tail -20 "$LOG_DIR/docker28-apt.log" >&2; die "apt-get download (sid) failed"; }
  for deb in "$apt_dir"/cache/archives/*.deb; do dpkg -x "$deb" "$root.new"; done
  rm -rf "$root" && mv "$root.new" "$root"
  rm -rf "$apt_dir"
  versions_ok || die "sid's docker/buildx are not docker 28 + buildx >= 0.21: $("$dockerd_bin" --version); $("$buildx_bin" version)"
fi

# A bin dir with dockerd 28's helpers first (docker-proxy) and a `docker28` CLI wrapper that
# talks to this engine with buildx 0.29, whatever DOCKER_HOST/DOCKER_CONFIG the caller has.
mkdir -p "$DOCKER28_PREFIX/bin" "$DOCKER28_PREFIX/config/cli-plugins"
ln -sfn "$docker_bin" "$DOCKER28_PREFIX/bin/docker"
ln -sfn "$dockerd_bin" "$DOCKER28_PREFIX/bin/dockerd"
ln -sfn "$root/usr/sbin/docker-proxy" "$DOCKER28_PREFIX/bin/docker-proxy"
ln -sfn "$buildx_bin" "$DOCKER28_PREFIX/config/cli-plugins/docker-buildx"
wrapper="#!/bin/sh
# docker CLI 28 + buildx 0.29 against the second engine (scripts/setup-docker28.sh).
DOCKER_HOST=unix://$DOCKER28_SOCKET DOCKER_CONFIG=\${DOCKER28_CONFIG:-$DOCKER28_PREFIX/config} exec $docker_bin \"\$@\""
if [ "$(cat "$DOCKER28_PREFIX/bin/docker28" 2>/dev/null)" != "$wrapper" ]; then
  printf '%s\n' "$wrapper" > "$DOCKER28_PREFIX/bin/docker28"
  chmod 755 "$DOCKER28_PREFIX/bin/docker28"
fi
ln -sfn "$DOCKER28_PREFIX/bin/docker28" /usr/local/bin/docker28
d28() { "$DOCKER28_PREFIX/bin/docker28" "$@"; }

# --- the engine: its own containerd, then dockerd -------------------------------------------------
# dockerd would adopt any containerd answering on /run/containerd/containerd.sock (dockerd 26's),
# so this one gets a containerd of its own, on its own socket, root and state.
ctr_sock="$DOCKER28_RUN/containerd.sock"
if ! ctr --address "$ctr_sock" version >/dev/null 2>&1; then
  mkdir -p "$DOCKER28_DATA/containerd" "$DOCKER28_RUN/containerd"
  cat > "$DOCKER28_PREFIX/containerd.toml" <<TOML
version = 2
root = "$DOCKER28_DATA/containerd"
state = "$DOCKER28_RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctr_sock"
[ttrpc]
  address = "$ctr_sock.ttrpc"
[debug]
  address = "$DOCKER28_RUN/containerd-debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$DOCKER28_DATA/containerd-opt"
TOML
  log "starting containerd for dockerd 28 on $ctr_sock"
  setsid containerd --config "$DOCKER28_PREFIX/containerd.toml" >"$LOG_DIR/containerd28.log" 2>&1 < /dev/null &
  echo $! > "$DOCKER28_RUN/containerd.pid"
  for _ in $(seq 150); do ctr --address "$ctr_sock" version >/dev/null 2>&1 && break; sleep 0.2; done
  ctr --address "$ctr_sock" version >/dev/null 2>&1 || { tail -20 "$LOG_DIR/containerd28.log" >&2; die "containerd for dockerd 28 did not start"; }
fi

if ! d28 info >/dev/null 2>&1; then
  # Its own bridge, so RUN steps get a network namespace without touching docker0.
  if ! ip link show "$DOCKER28_BRIDGE" >/dev/null 2>&1; then
    ip link add "$DOCKER28_BRIDGE" type bridge
    ip addr add "$DOCKER28_BRIDGE_CIDR" dev "$DOCKER28_BRIDGE"
    ip link set "$DOCKER28_BRIDGE" up
  fi
  mkdir -p "$DOCKER28_DATA" "$DOCKER28_RUN" "$(dirname "$DOCKER28_SOCKET")"
  cat > "$DOCKER28_PREFIX/daemon.json" <<JSON
{
  "features": { "containerd-snapshotter": true },
  "containerd": "$ctr_sock",
  "data-root": "$DOCKER28_DATA",
  "exec-root": "$DOCKER28_RUN",
  "pidfile": "$DOCKER28_RUN/dockerd.pid",
  "hosts": ["unix://$DOCKER28_SOCKET"],
  "bridge": "$DOCKER28_BRIDGE",
  "iptables": false,
  "ip6tables": false,
  "ip-forward": false,
  "ip-masq": false,
  "userland-proxy": false
}
JSON
  log "starting dockerd 28 on $DOCKER28_SOCKET"
  PATH="$DOCKER28_PREFIX/bin:$PATH" setsid "$dockerd_bin" --config-file "$DOCKER28_PREFIX/daemon.json" \
    >"$LOG_DIR/dockerd28.log" 2>&1 < /dev/null &
  for _ in $(seq 300); do d28 info >/dev/null 2>&1 && break; sleep 0.2; done
  d28 info >/dev/null 2>&1 || { tail -20 "$LOG_DIR/dockerd28.log" >&2; die "dockerd 28 did not start"; }
fi
d28 info --format '{{.ServerVersion}}' >/dev/null
# Never the shared containerd: that would mix this engine's images into dockerd 26's.
grep -q "Creating a containerd client.*address=$ctr_sock" "$LOG_DIR/dockerd28.log" \
  || die "dockerd 28 is not on its own containerd ($ctr_sock): see $LOG_DIR/dockerd28.log"
d28 info --format '{{.DriverStatus}}' | grep -q 'io.containerd.snapshotter' \
  || die "dockerd 28 is not using the containerd image store"
log "ready: $(d28 version --format 'dockerd {{.Server.Version}}') on $DOCKER28_SOCKET, $(d28 buildx version | cut -d' ' -f1-2)"
