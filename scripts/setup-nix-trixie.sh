#!/usr/bin/env bash
# Builds a Debian trixie root filesystem holding trixie's nix-bin (Nix 2.26), so the build-nix
# stage can be tested against a current Nix next to Debian 12's nix-bin 2.8 on the host.
#
#   scripts/setup-nix-trixie.sh            # creates ${NIX_TRIXIE_ROOT:-/var/lib/vllm-rocm-action/trixie-root}
#   scripts/in-trixie.sh -- nix --version  # then run things inside it
#
# Idempotent: when the root is already complete (marker file present and nix runs) it only
# refreshes nix.conf and prints the version. A fresh root is built in a temporary directory next
# to the final one and renamed into place at the very end, so a half-made root is never used.
# Touches neither the host's apt configuration nor its installed packages (except installing
# debootstrap when missing).
set -euo pipefail

ROOT=${NIX_TRIXIE_ROOT:-/var/lib/vllm-rocm-action/trixie-root}
MIRROR=${NIX_TRIXIE_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
MARKER_NAME=.vllm-rocm-action-trixie-ready
PACKAGES=(nix-bin ca-certificates git xz-utils zstd tar gzip coreutils)
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

log() { printf '[setup-nix-trixie] %s\n' "$*" >&2; }
die() { printf '[setup-nix-trixie] error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"

ROOT=${ROOT%/}
case "$ROOT" in /?*) ;; *) die "NIX_TRIXIE_ROOT must be an absolute path (got '$ROOT')" ;; esac
parent=$(dirname "$ROOT")
mkdir -p "$parent"

NIX_CONF='# written by scripts/setup-nix-trixie.sh (vllm-rocm-action tests)
experimental-features = nix-command flakes
sandbox = false
build-users-group =
substituters ='

write_nix_conf() { # $1 = root
  mkdir -p "$1/etc/nix"
  if [ "$(cat "$1/etc/nix/nix.conf" 2>/dev/null)" != "$NIX_CONF" ]; then
    printf '%s\n' "$NIX_CONF" > "$1/etc/nix/nix.conf.tmp"
    mv -f "$1/etc/nix/nix.conf.tmp" "$1/etc/nix/nix.conf"
  fi
}

# Mount points below $1, deepest first (from this process's mount table).
mounts_under() {
  awk -v p="$1" '{ t = $5; gsub(/\\040/, " ", t); if (t == p || index(t, p "/") == 1) print t }' \
    /proc/self/mountinfo | sort -r
}
unmount_under() {
  local m
  while IFS= read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
  done < <(mounts_under "$1")
}
# Removes a directory tree, but never while anything is mounted below it (a bind-mounted host
# directory would otherwise be deleted along with it).
safe_rm_tree() {
  unmount_under "$1"
  if [ -n "$(mounts_under "$1")" ]; then
    die "refusing to delete $1: still has mounts below it"
  fi
  rm -rf --one-file-system "$1"
}

# `nix --version` inside a root; Nix needs /proc, mounted here in a private mount namespace so
# nothing is left mounted whatever happens.
# Without unshare (a restricted container), the version recorded in the marker file is used.
nix_version_in() {
  if unshare --mount --propagation private -- true 2>/dev/null; then
    unshare --mount --propagation private -- /bin/sh -c \
      'mount --bind /proc "$1/proc" && exec chroot "$1" /usr/bin/nix --version' sh "$1"
  else
    [ -f "$1/$MARKER_NAME" ] && head -n 1 "$1/$MARKER_NAME"
  fi
}
root_ready() {
  [ -f "$1/$MARKER_NAME" ] && [ -x "$1/usr/bin/nix" ] && nix_version_in "$1" >/dev/null 2>&1
}

# One setup at a time (tests may call this from several workers).
exec 9>"$ROOT.lock"
flock 9

if root_ready "$ROOT"; then
  write_nix_conf "$ROOT"
  version=$(nix_version_in "$ROOT")
  log "already set up: $ROOT"
  printf '%s\n' "$version"
  exit 0
fi

start=$(date +%s)

# Leftovers from interrupted runs (the lock guarantees no other setup is using them).
for stale in "$ROOT".tmp.*; do
  if [ -d "$stale" ]; then
    log "removing stale partial root $stale"
    safe_rm_tree "$stale"
  elif [ -f "$stale" ]; then
    rm -f "$stale"
  fi
done

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  apt-get install -y --no-install-recommends debootstrap >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends debootstrap >/dev/null; } ||
    die "could not install debootstrap"
fi

TMP_ROOT="$ROOT.tmp.$$"
STEP_LOG="$ROOT.tmp.$$.log"
# Long steps run in their own process group, in the background, so a signal is handled at once
# (bash defers traps while a foreground child runs) and the whole step can be stopped before the
# partial root is removed.
step_pgid=
run_step() {
  setsid "$@" < /dev/null >> "$STEP_LOG" 2>&1 &
  step_pgid=$!
  local rc=0
  wait "$step_pgid" || rc=$?
  step_pgid=
  return "$rc"
}
stop_step() {
  [ -n "$step_pgid" ] || return 0
  kill -TERM -- "-$step_pgid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 -- "-$step_pgid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$step_pgid" 2>/dev/null || true
  wait "$step_pgid" 2>/dev/null || true
  step_pgid=
}
cleanup() {
  local rc=$?
  trap '' INT TERM HUP
  stop_step
  unmount_under "$TMP_ROOT"
  if [ "$rc" -ne 0 ]; then
    if [ -s "$STEP_LOG" ]; then
      log "last lines of the step log:"; tail -n 25 "$STEP_LOG" >&2
    fi
    if [ -d "$TMP_ROOT" ]; then
      log "setup failed (exit $rc); removing partial root $TMP_ROOT"
      safe_rm_tree "$TMP_ROOT" || true
    fi
  fi
  rm -f "$STEP_LOG"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

log "debootstrap --variant=minbase $SUITE $TMP_ROOT $MIRROR"
mkdir -p "$TMP_ROOT"
: > "$STEP_LOG"
if ! run_step debootstrap --variant=minbase "$SUITE" "$TMP_ROOT" "$MIRROR"; then
  if [ -f "$TMP_ROOT/debootstrap/debootstrap.log" ]; then tail -n 30 "$TMP_ROOT/debootstrap/debootstrap.log" >&2; fi
  die "debootstrap failed"
fi
: > "$STEP_LOG"
unmount_under "$TMP_ROOT" # debootstrap normally unmounts its own /proc and /sys; make sure

mkdir -p "$TMP_ROOT/proc" "$TMP_ROOT/dev" "$TMP_ROOT/dev/pts"
mount --bind /proc "$TMP_ROOT/proc"
mount --bind /dev "$TMP_ROOT/dev"
mount --bind /dev/pts "$TMP_ROOT/dev/pts"
rm -f "$TMP_ROOT/etc/resolv.conf"
cat /etc/resolv.conf > "$TMP_ROOT/etc/resolv.conf"
# No service may start from a maintainer script inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$TMP_ROOT/usr/sbin/policy-rc.d"
chmod 755 "$TMP_ROOT/usr/sbin/policy-rc.d"

IN_ROOT=(chroot "$TMP_ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive)
in_root() { "${IN_ROOT[@]}" "$@"; }

log "apt-get install ${PACKAGES[*]} (inside the root)"
if ! run_step "${IN_ROOT[@]}" apt-get update ||
   ! run_step "${IN_ROOT[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"; then
  die "installing packages inside the trixie root failed"
fi
: > "$STEP_LOG"
in_root apt-get clean
rm -rf "$TMP_ROOT/var/lib/apt/lists/"*
rm -f "$TMP_ROOT/usr/sbin/policy-rc.d"

write_nix_conf "$TMP_ROOT"
mkdir -p "$TMP_ROOT/usr/local/bin" "$TMP_ROOT/root"
version=$(in_root nix --version) || die "nix does not run inside the new root"

unmount_under "$TMP_ROOT"
[ -z "$(mounts_under "$TMP_ROOT")" ] || die "mounts left below $TMP_ROOT"
printf '%s\nsuite=%s\ncreated=%s\n' "$version" "$SUITE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$TMP_ROOT/$MARKER_NAME"

# Swap into place. An existing $ROOT here is incomplete (root_ready failed above).
if [ -e "$ROOT" ]; then
  log "replacing incomplete root at $ROOT"
  safe_rm_tree "$ROOT"
fi
mv -T "$TMP_ROOT" "$ROOT"
trap - EXIT
rm -f "$STEP_LOG"

log "ready: $ROOT in $(( $(date +%s) - start ))s"
nix_version_in "$ROOT"
