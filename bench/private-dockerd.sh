#!/usr/bin/env bash
# A private, throw-away container engine for benchmarks (and for tests that prune): its own
# containerd, data root, exec root, socket, pidfile and bridge, like scripts/setup-docker28.sh,
# so a "fresh builder" never means pruning the shared dockerd. The containerd image store is on,
# as on the toolchain's dockerd (/etc/docker/daemon.json): the docker driver exports caches only with it.
#   bench/private-dockerd.sh start DIR [26|28]   # prints the DOCKER_HOST to use
#   bench/private-dockerd.sh stop DIR            # stops it and removes DIR
# A second start on a running DIR stops it and starts a fresh one (empty data root).
# BENCH_USERLAND_PROXY=true: docker-proxy forwards a published 127.0.0.1 port to the container (no
# iptables here), for a bench that talks to a container it runs (the smoke test's server).
set -euo pipefail
cmd=$1 dir=$2 engine=${3:-26}
DOCKER28_PREFIX=${DOCKER28_PREFIX:-/opt/vllm-rocm-action/docker28}
BRIDGE=${BENCH_BRIDGE:-vra-bench0}
BRIDGE_CIDR=${BENCH_BRIDGE_CIDR:-172.30.229.1/24}

stop() {
  for name in dockerd containerd; do
    pid=$(cat "$dir/run/$name.pid" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # Overlay mounts left by a killed daemon would keep the data root busy.
  { grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$dir"
}

case $cmd in
  stop) stop ;;
  start)
    [ -d "$dir" ] && stop
    mkdir -p "$dir/data/containerd" "$dir/run/containerd" "$dir/log"
    if [ "$engine" = 28 ]; then dockerd_bin=$DOCKER28_PREFIX/root/usr/sbin/dockerd; path=$DOCKER28_PREFIX/bin:$PATH; else dockerd_bin=/usr/sbin/dockerd; path=$PATH; fi
    sock=$dir/run/containerd.sock
    cat > "$dir/containerd.toml" <<TOML
version = 2
root = "$dir/data/containerd"
state = "$dir/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = "$dir/run/containerd-debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/data/containerd-opt"
TOML
    setsid containerd --config "$dir/containerd.toml" >"$dir/log/containerd.log" 2>&1 </dev/null &
    echo $! >"$dir/run/containerd.pid"
    for _ in $(seq 150); do ctr --address "$sock" version >/dev/null 2>&1 && break; sleep 0.2; done
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
      ip link add "$BRIDGE" type bridge && ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" && ip link set "$BRIDGE" up
    fi
    cat > "$dir/daemon.json" <<JSON
{
  "features": { "containerd-snapshotter": true },
  "containerd": "$sock",
  "data-root": "$dir/data/docker",
  "exec-root": "$dir/run/docker",
  "pidfile": "$dir/run/dockerd.pid",
  "hosts": ["unix://$dir/run/docker.sock"],
  "bridge": "$BRIDGE",
  "iptables": false, "ip6tables": false, "ip-forward": false, "ip-masq": false, "userland-proxy": ${BENCH_USERLAND_PROXY:-false}
}
JSON
    PATH=$path setsid "$dockerd_bin" --config-file "$dir/daemon.json" >"$dir/log/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 300); do DOCKER_HOST=unix://$dir/run/docker.sock docker info >/dev/null 2>&1 && break; sleep 0.2; done
    DOCKER_HOST=unix://$dir/run/docker.sock docker info >/dev/null 2>&1 || { tail -20 "$dir/log/dockerd.log" >&2; exit 1; }
    echo "unix://$dir/run/docker.sock"
    ;;
  *) echo "usage: $0 start|stop DIR [26|28]" >&2; exit 2 ;;
esac
