// The likely cause of each kind of difference, and what to change in the build to remove it.
import type { DifferenceKind } from './types.js';

export interface CauseAndFix {
  cause: string;
  fix: string;
}

/** `subject` names the file, field or layer the difference is about, where that sharpens the text. */
export function causeOf(kind: DifferenceKind, subject = ''): CauseAndFix {
  const it = subject ? `\`${subject}\`` : 'the file';
  switch (kind) {
    case 'platforms':
      return {
        cause: 'the images are built for different platform sets',
        fix: 'build the same --platform list on both sides',
      };
    case 'attestation':
      return {
        cause: 'a provenance/SBOM attestation manifest (it records build times and invocation details)',
        fix: 'build with --provenance=false --sbom=false (buildx: provenance=false), or compare the platform manifests only',
      };
    case 'index-field':
      return {
        cause: 'the image index differs (annotations such as org.opencontainers.image.created, or its manifest list)',
        fix: 'set SOURCE_DATE_EPOCH so index annotations are fixed; drop attestations (provenance=false)',
      };
    case 'manifest-field':
      return {
        cause: 'the manifest points to different blobs or carries different annotations',
        fix: 'follow the config and layer differences below; set SOURCE_DATE_EPOCH for org.opencontainers.image.created annotations',
      };
    case 'manifest-encoding':
      return {
        cause: 'the manifests hold the same content but are serialised differently (key order or whitespace)',
        fix: 'push both with the same tool (the same buildx/skopeo/Nix version); compare by manifest content',
      };
    case 'layer-count':
      return {
        cause: 'the images have a different number of layers (a build step was added, removed or cached differently)',
        fix: 'build from the same Dockerfile/Nix expression and inputs; check conditional steps',
      };
    case 'compression':
      return {
        cause: 'compression only: the uncompressed layer (diff_id) is identical, the compressed bytes differ (gzip level or implementation)',
        fix: 'compress with the same compressor and level on both sides (buildx: compression=gzip,compression-level=N,force-compression=true), or compare diff_ids',
      };
    case 'layer-encoding':
      return {
        cause: 'the same layer is stored with a different encoding (e.g. an uncompressed docker-archive layer vs a gzip OCI layer)',
        fix: 'export both images in the same format (both OCI, or both docker-archive), or compare diff_ids',
      };
    case 'config-created':
      return {
        cause: 'config.created is the build time',
        fix: 'set SOURCE_DATE_EPOCH (buildx uses it for created; Nix dockerTools: created = "1970-01-01T00:00:01Z" or a fixed date)',
      };
    case 'history-created':
      return {
        cause: 'history[].created records when each step ran',
        fix: 'set SOURCE_DATE_EPOCH (buildx clamps history times to it)',
      };
    case 'config-field':
      return {
        cause: `the image config differs in ${subject || 'a field'} (a build argument, label, ENV or base image changed)`,
        fix: 'pass the same build arguments and labels on both sides; avoid labels that embed times, hosts or run ids',
      };
    case 'file-order':
      return {
        cause: 'the layer tar lists the same entries in a different order (directory listing order of the build filesystem)',
        fix: 'write layers as sorted tars (tar --sort=name; BuildKit and Nix sort entries — check custom layer writers)',
      };
    case 'tar-metadata':
      return {
        cause: 'the layers differ only in tar header data outside the compared fields (user/group names, padding, header format)',
        fix: 'write layers with the same tool and options (tar --format=posix --numeric-owner --owner=0 --group=0)',
      };
    case 'only-in-a':
      return {
        cause: `${it} exists only in image A: a build step created or deleted it in one build only`,
        fix: `find the step that writes ${it}; make it independent of caches, network and build host state`,
      };
    case 'only-in-b':
      return {
        cause: `${it} exists only in image B: a build step created or deleted it in one build only`,
        fix: `find the step that writes ${it}; make it independent of caches, network and build host state`,
      };
    case 'type':
      return {
        cause: `${it} has a different entry type (file, directory, symlink…) on each side`,
        fix: `find the step that creates ${it}`,
      };
    case 'link-target':
      return {
        cause: `the link ${it} points to different targets (often a versioned or build-path dependent target)`,
        fix: `make the step that creates ${it} use a fixed target`,
      };
    case 'mode':
      return {
        cause: `${it} has different permission bits (umask or chmod differs between builds)`,
        fix: 'set modes explicitly (COPY --chmod, chmod in the step, a fixed umask)',
      };
    case 'uid-gid':
      return {
        cause: `${it} is owned by a different uid/gid (the builder user leaked into the layer)`,
        fix: 'write layers with --owner=0 --group=0 --numeric-owner (or chown / COPY --chown in the build)',
      };
    case 'size':
    case 'content':
      return {
        cause: `the content of ${it} differs: the step that writes it is not deterministic (random data, an embedded time, host name or build path)`,
        fix: `find the build step that writes ${it} and make it deterministic (seed it, strip times and paths; SOURCE_DATE_EPOCH)`,
      };
    case 'pyc-timestamp':
      return {
        cause: `${it} is compiled Python whose header records the source file's mtime`,
        fix: 'compile with SOURCE_DATE_EPOCH and PYTHONHASHSEED=0, or `python -m compileall --invalidation-mode checked-hash`',
      };
    case 'pyc-content':
      return {
        cause: `${it} is compiled Python whose marshalled code differs (set/frozenset order from hash randomisation, or reference flags)`,
        fix: 'compile with PYTHONHASHSEED=0 and SOURCE_DATE_EPOCH, `--invalidation-mode checked-hash`, on the same Python version',
      };
    case 'elf-build-id':
      return {
        cause: `${it} is an ELF binary that differs only in its GNU build ID (derived from non-deterministic inputs or a random --build-id)`,
        fix: 'link with -Wl,--build-id=none or a deterministic -Wl,--build-id=sha1 from reproducible inputs (-ffile-prefix-map, SOURCE_DATE_EPOCH)',
      };
    case 'mtime':
      return {
        cause: `${it} has a different modification time (the time the build wrote it)`,
        fix: 'set SOURCE_DATE_EPOCH and export with rewrite-timestamp=true (buildx), or tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime',
      };
    case 'pax':
      return {
        cause: `${it} carries different pax records (atime/ctime or extended attributes)`,
        fix: 'write layers without atime/ctime and with the same xattrs (tar --pax-option=delete=atime,delete=ctime; no xattrs from the build host)',
      };
  }
}
