# The Dockerfile's image as an OCI archive: one layer with /usr/bin/vllm, the same config. Every
# byte is fixed (sorted tar, mtime 0, numeric owners, gzip -n), so a rebuild gives one digest.
export PATH=/usr/bin:/bin LC_ALL=C TZ=UTC
umask 022
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
tarball() { # DIR OUT: a reproducible tar of DIR's contents
  (cd "$1" && find . -mindepth 1 | sed 's|^\./||' | sort > "$TMPDIR/list")
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$1" -cf "$2" --no-recursion -T "$TMPDIR/list"
}
blob() { # FILE: moves FILE into the layout as a blob, prints "digest size"
  d=$(sha "$1"); s=$(size "$1"); mv "$1" "$TMPDIR/oci/blobs/sha256/$d"; echo "$d $s"
}

mkdir -p "$TMPDIR/root/usr/bin" "$TMPDIR/oci/blobs/sha256"
cp "$server" "$TMPDIR/root/usr/bin/vllm"
chmod 0755 "$TMPDIR/root/usr" "$TMPDIR/root/usr/bin" "$TMPDIR/root/usr/bin/vllm"
tarball "$TMPDIR/root" "$TMPDIR/layer.tar"
diff_id=$(sha "$TMPDIR/layer.tar")
gzip -n -9 -c "$TMPDIR/layer.tar" > "$TMPDIR/layer.tar.gz"
set -- $(blob "$TMPDIR/layer.tar.gz"); layer=$1 layer_size=$2

printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/bin"],"Cmd":["vllm","serve","Qwen/Qwen2.5-0.5B-Instruct","--host","0.0.0.0","--port","8000"],"Labels":{"org.opencontainers.image.title":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"flake.nix: /usr/bin/vllm"}]}' "$title" "$diff_id" > "$TMPDIR/config.json"
set -- $(blob "$TMPDIR/config.json"); config=$1 config_size=$2

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$config" "$config_size" "$layer" "$layer_size" > "$TMPDIR/manifest.json"
set -- $(blob "$TMPDIR/manifest.json"); manifest=$1 manifest_size=$2

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"docker.io/library/vllm-rocm-example:nix","org.opencontainers.image.ref.name":"nix"}}]}' "$manifest" "$manifest_size" > "$TMPDIR/oci/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$TMPDIR/oci/oci-layout"
tarball "$TMPDIR/oci" "$out"
