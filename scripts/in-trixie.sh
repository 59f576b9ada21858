#!/usr/bin/env bash
# Runs a command inside the Debian trixie root made by scripts/setup-nix-trixie.sh, i.e. with
# trixie's Nix 2.26 (and the host's Node 24, copied in as /usr/local/bin/node24).
#
#   scripts/in-trixie.sh [options] -- command args...
#
# Options:
#   --bind DIR       bind-mount DIR (a directory or a file, e.g. a socket) at the same path inside
#                    the root; repeatable. /tmp is always bound, and so is $TMPDIR when it is set.
#   --env NAME       with --clean-env: pass the caller's NAME through; NAME=VALUE sets it.
#                    Without --clean-env NAME is passed anyway and NAME=VALUE overrides it.
#   --clean-env      start from an empty environment (PATH, HOME, TERM, LANG, --env ones) instead
#                    of the caller's whole environment.
#   --cwd DIR        working directory inside the root. Default: the caller's working directory
#                    when it exists inside (under /tmp or a --bind DIR), otherwise /.
#
# By default the caller's whole environment is passed, with PATH kept as given but
# /usr/local/bin:/usr/bin:/bin appended where missing, and HOME=/root when unset.
# /proc, /sys, /dev, /dev/pts, /dev/shm, /tmp and the --bind dirs are mounted in a private mount
# namespace (unshare), so they disappear with the command whatever happens (failure, signal,
# SIGKILL) and are never visible on the host; without unshare the script mounts them itself and
# unmounts them on exit (trap). The command's exit status is returned; errors of this script
# itself exit 125. Mount points it creates inside the root (empty dirs/files) are left there.
#
# NIX_TRIXIE_ROOT selects the root (default /var/lib/vllm-rocm-action/trixie-root).
set -euo pipefail
# The caller's PATH goes inside as given (plus the system dirs); this script's own tools are
# found on the system PATH, so a caller with a bare PATH still works.
export _IN_TRIXIE_CALLER_PATH=${_IN_TRIXIE_CALLER_PATH-${PATH:-}}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

ROOT=${NIX_TRIXIE_ROOT:-/var/lib/vllm-rocm-action/trixie-root}
ROOT=${ROOT%/}
MARKER_NAME=.vllm-rocm-action-trixie-ready
NODE24_LINK=${IN_TRIXIE_NODE24:-/usr/local/bin/node24}

die() { printf '[in-trixie] error: %s\n' "$*" >&2; exit 125; }
usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0; }

binds=() envs=() clean_env=0 cwd=
while [ $# -gt 0 ]; do
  case "$1" in
    --bind) [ $# -ge 2 ] || die "--bind needs a path"; binds+=("$2"); shift 2 ;;
    --bind=*) binds+=("${1#--bind=}"); shift ;;
    --env) [ $# -ge 2 ] || die "--env needs a name"; envs+=("$2"); shift 2 ;;
    --env=*) envs+=("${1#--env=}"); shift ;;
    --clean-env) clean_env=1; shift ;;
    --cwd) [ $# -ge 2 ] || die "--cwd needs a path"; cwd=$2; shift 2 ;;
    --cwd=*) cwd=${1#--cwd=}; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || die "no command given (usage: in-trixie.sh [--bind DIR]... -- command args...)"

# ---------------------------------------------------------------------------------------------
# Phase 1 (caller's mount namespace): checks, node24, resolv.conf, argument normalisation.
if [ -z "${_IN_TRIXIE_PHASE2:-}" ]; then
  [ "$(id -u)" = 0 ] || die "run as root (needs chroot and mount)"
  [ -f "$ROOT/$MARKER_NAME" ] && [ -x "$ROOT/usr/bin/nix" ] ||
    die "no ready trixie root at $ROOT; run scripts/setup-nix-trixie.sh first"

  # The host's Node 24 (glibc-linked; trixie's newer glibc runs it). Copied when missing/changed.
  if node_src=$(readlink -f "$NODE24_LINK" 2>/dev/null) && [ -f "$node_src" ]; then
    node_dst="$ROOT/usr/local/bin/node24"
    if [ "$(stat -c '%s %Y' "$node_src")" != "$(stat -c '%s %Y' "$node_dst" 2>/dev/null)" ]; then
      mkdir -p "$ROOT/usr/local/bin"
      cp -p "$node_src" "$node_dst.tmp.$$"
      mv -f "$node_dst.tmp.$$" "$node_dst"
    fi
  fi
  # Fresh resolv.conf (replace, never write through a symlink).
  cat /etc/resolv.conf > "$ROOT/etc/resolv.conf.tmp.$$" 2>/dev/null || : > "$ROOT/etc/resolv.conf.tmp.$$"
  mv -f "$ROOT/etc/resolv.conf.tmp.$$" "$ROOT/etc/resolv.conf"

  # Absolute, symlink-free host paths for the binds.
  norm=()
  for b in "${binds[@]}"; do
    p=$(realpath -e -- "$b" 2>/dev/null) || die "--bind $b: no such file or directory"
    [ "$p" != / ] || die "--bind /: not allowed"
    norm+=("$p")
  done
  if [ -n "${TMPDIR:-}" ] && [ -d "$TMPDIR" ]; then
    p=$(realpath -e -- "$TMPDIR"); [ "$p" = / ] || norm+=("$p")
  fi
  if [ -n "$cwd" ]; then
    case "$cwd" in /*) ;; *) die "--cwd must be absolute" ;; esac
  fi
  args=()
  for p in "${norm[@]}"; do args+=(--bind "$p"); done
  for e in "${envs[@]}"; do args+=(--env "$e"); done
  if [ "$clean_env" = 1 ]; then args+=(--clean-env); fi
  if [ -n "$cwd" ]; then args+=(--cwd "$cwd"); fi

  if [ -z "${IN_TRIXIE_NO_UNSHARE:-}" ] && unshare --mount --propagation private -- true 2>/dev/null; then
    _IN_TRIXIE_PHASE2=ns exec unshare --mount --propagation private -- \
      "$BASH" "$0" "${args[@]}" -- "$@"
  fi
  _IN_TRIXIE_PHASE2=trap exec "$BASH" "$0" "${args[@]}" -- "$@"
fi

# ---------------------------------------------------------------------------------------------
# Phase 2: mount (in the private namespace, or here with a cleanup trap) and run.
mode=$_IN_TRIXIE_PHASE2
unset _IN_TRIXIE_PHASE2

mounted=()
unmount_all() {
  local i
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null ||
      printf '[in-trixie] warning: could not unmount %s\n' "${mounted[i]}" >&2
  done
  mounted=()
}
if [ "$mode" = trap ]; then
  trap unmount_all EXIT
fi

bind_into() { # host path -> same path inside the root
  local src=$1 inside target
  # Resolve the target inside the root so an absolute symlink there cannot point at the host.
  inside=$(chroot "$ROOT" /usr/bin/realpath -m -- "$src")
  target="$ROOT$inside"
  if [ -d "$src" ]; then
    mkdir -p -- "$target"
  else
    mkdir -p -- "$(dirname -- "$target")"; [ -e "$target" ] || : > "$target"
  fi
  mount --bind -- "$src" "$target"
  mounted+=("$target")
}

bind_into /proc
if [ -d /sys ]; then bind_into /sys; fi
bind_into /dev
if [ -d /dev/pts ]; then bind_into /dev/pts; fi
if mountpoint -q /dev/shm 2>/dev/null; then bind_into /dev/shm; fi
bind_into /tmp
# Parents before children; anything under /tmp is already there.
while IFS= read -r p; do
  [ -n "$p" ] || continue
  case "$p" in /tmp|/tmp/*) continue ;; esac
  bind_into "$p"
done < <(printf '%s\n' "${binds[@]}" | awk '{ print length($0) "\t" $0 }' | sort -n -k1,1 -s | cut -f2- | uniq)

# Environment.
ensure_path() {
  local path=$1 d
  for d in /usr/local/bin /usr/bin /bin; do
    case ":$path:" in *":$d:"*) ;; *) path=${path:+$path:}$d ;; esac
  done
  printf '%s' "$path"
}
declare -A setv=()
order=()
add_env() { [ -n "${setv[$1]+x}" ] || order+=("$1"); setv[$1]=$2; }
if [ "$clean_env" = 1 ]; then
  add_env PATH "$(ensure_path "$_IN_TRIXIE_CALLER_PATH")"
  add_env HOME "${HOME:-/root}"
  for v in TERM LANG LC_ALL; do
    if [ -n "${!v+x}" ]; then add_env "$v" "${!v}"; fi
  done
else
  while IFS= read -r -d '' kv; do
    name=${kv%%=*}
    case "$name" in _|PWD|OLDPWD|_IN_TRIXIE_PHASE2|_IN_TRIXIE_CALLER_PATH|IN_TRIXIE_NO_UNSHARE) continue ;; esac
    # Any name, hyphens included: the runner passes inputs as INPUT_<NAME> with hyphens kept.
    [ -n "$name" ] || continue
    add_env "$name" "${kv#*=}"
  done < <(env -0)
  add_env PATH "$(ensure_path "$_IN_TRIXIE_CALLER_PATH")"
  [ -n "${HOME:-}" ] || add_env HOME /root
fi
for e in "${envs[@]}"; do
  case "$e" in
    *=*) add_env "${e%%=*}" "${e#*=}" ;;
    *) if [ -n "${!e+x}" ]; then add_env "$e" "${!e}"; fi ;;
  esac
done
[ "${setv[PATH]}" = "$(ensure_path "${setv[PATH]}")" ] || setv[PATH]=$(ensure_path "${setv[PATH]}")

# Working directory inside.
if [ -z "$cwd" ]; then
  cwd=/
  here=$(pwd -P 2>/dev/null || echo /)
  for p in /tmp "${binds[@]}"; do
    case "$here/" in "$p"/*) cwd=$here; break ;; esac
  done
fi
add_env PWD "$cwd"

env_args=()
for n in "${order[@]}"; do env_args+=("$n=${setv[$n]}"); done

cmd=(chroot "$ROOT" /usr/bin/env -i -C "$cwd" "${env_args[@]}" "$@")
if [ "$mode" = ns ]; then
  exec "${cmd[@]}"
fi

# Trap mode: run as a child so the mounts can be removed afterwards; forward signals.
child= interrupted=0
forward() { interrupted=1; if [ -n "$child" ]; then kill "-$1" "$child" 2>/dev/null || true; fi; }
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP
"${cmd[@]}" <&0 &
child=$!
while :; do
  interrupted=0
  set +e; wait "$child"; rc=$?; set -e
  [ "$interrupted" = 1 ] || break
done
unmount_all
exit "$rc"
