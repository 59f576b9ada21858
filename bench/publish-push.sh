#!/usr/bin/env bash
# Benchmark of publish's push (not a test): a single-layer image of BENCH_MB MiB (default
# "256 1024": each size in turn) pushed to a fresh private docker-registry on 127.0.0.1 by
# dist/publish/index.js, from an OCI archive (read in place) and from the same image as an OCI
# layout directory, each side by side with skopeo copying the same source (`oci-archive:`,
# `oci:`) to the same kind of fresh registry. Prints wall seconds, peak RSS (/usr/bin/time; it
# must not grow with the image) and publish/skopeo for the archive (issue 20's target: <= 1.2).
#
#   npm run build && bash bench/publish-push.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-publish-XXXXXX")
trap 'for p in "$dir"/reg-*/pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$dir"' EXIT
# sync first: the files just written are flushed before each run, not during the first one.
measure() { sync; /usr/bin/time -f '%e s, peak RSS %M KiB' "$@" 2>&1 >/dev/null | tail -1; }
seconds() { echo "${1%% s,*}"; }
registry() { # a fresh registry; prints its port
  local port; port=$(node24 -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  mkdir -p "$dir/reg-$port"
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' "$dir/reg-$port/data" "$port" > "$dir/reg-$port/config.yml"
  setsid docker-registry serve "$dir/reg-$port/config.yml" > "$dir/reg-$port/log" 2>&1 < /dev/null & echo $! > "$dir/reg-$port/pid"
  for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "$port"
}
blob() { # moves a file into the layout as a blob; prints "digest size"
  local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1"); mv "$1" "$dir/layout/blobs/sha256/$d"; echo "$d $s"
}
publish() { # source port
  mkdir -p "$dir/runner"; : > "$dir/summary"; : > "$dir/outputs"
  measure env -i PATH="$PATH" RUNNER_TEMP="$dir/runner" GITHUB_STEP_SUMMARY="$dir/summary" GITHUB_OUTPUT="$dir/outputs" \
    INPUT_SOURCE="$1" INPUT_IMAGE="127.0.0.1:$2/bench/image" INPUT_TAGS=bench node24 "$root/dist/publish/index.js"
}
for mb in ${BENCH_MB:-256 1024}; do
  rm -rf "$dir/layout" "$dir/image.tar" "$dir/src"; mkdir -p "$dir/layout/blobs/sha256" "$dir/src"
  head -c $((mb << 20)) /dev/urandom > "$dir/src/weights.bin"
  tar --sort=name --mtime=@0 --owner=0 --group=0 -cf "$dir/layer.tar" -C "$dir/src" weights.bin
  read -r layer layer_size < <(blob "$dir/layer.tar")
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$layer" > "$dir/config"
  read -r config config_size < <(blob "$dir/config")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' "$config" "$config_size" "$layer" "$layer_size" > "$dir/manifest"
  read -r manifest manifest_size < <(blob "$dir/manifest")
  echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/layout/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' "$manifest" "$manifest_size" > "$dir/layout/index.json"
  tar -cf "$dir/image.tar" -C "$dir/layout" .
  echo "== $mb MiB layer, sha256:$manifest"
  port=$(registry); archive=$(publish "$dir/image.tar" "$port")
  grep -q "sha256:$manifest" "$dir/outputs" || { echo "publish did not report the image's digest" >&2; exit 1; }
  port=$(registry); reference=$(measure skopeo copy -q --dest-tls-verify=false "oci-archive:$dir/image.tar" "docker://127.0.0.1:$port/bench/image:bench")
  echo "publish, OCI archive:      $archive"
  echo "skopeo copy oci-archive:   $reference"
  echo "ratio (publish/skopeo):    $(awk -v a="$(seconds "$archive")" -v b="$(seconds "$reference")" 'BEGIN { printf "%.2f", a / b }')"
  port=$(registry); echo "publish, OCI layout:       $(publish "$dir/layout" "$port")"
  grep -q "sha256:$manifest" "$dir/outputs" || { echo "publish did not report the image's digest" >&2; exit 1; }
  port=$(registry); echo "skopeo copy oci:           $(measure skopeo copy -q --dest-tls-verify=false "oci:$dir/layout" "docker://127.0.0.1:$port/bench/image:bench")"
done
