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
    case 'elf-build-time':
      return {
        cause: `${it} is an ELF binary with the build date/time compiled in (\`__DATE__\`/\`__TIME__\` strings in .rodata); its build ID changes with it`,
        fix: 'build with SOURCE_DATE_EPOCH set (GCC and Clang then expand __DATE__/__TIME__ from it), or drop the macros (-Wdate-time finds them)',
      };
    case 'elf-sections':
      return {
        cause: `${it} is an ELF binary whose code or data differ (the sections named below): the compiler or linker got different inputs (build paths, flags, link order, generated sources)`,
        fix: 'build with -ffile-prefix-map=$PWD=. and SOURCE_DATE_EPOCH, the same flags and toolchain on both sides; compare the sections named (objdump -d -j SECTION)',
      };
    case 'zip-timestamps':
      return {
        cause: `${it} is a zip archive whose members carry other timestamps (the time each file was written into it)`,
        fix: zipFix(subject),
      };
    case 'zip-order':
      return {
        cause: `${it} is a zip archive whose members are stored in another order (directory listing order)`,
        fix: `${zipFix(subject)}; sort the members (wheel and setuptools sort; custom zip writers may not)`,
      };
    case 'zip-compression':
      return {
        cause: `${it} is a zip archive whose members hold the same data compressed differently (level or zlib version)`,
        fix: 'write the archive with the same tool, zlib and compression level on both sides',
      };
    case 'zip-content':
      return {
        cause: `${it} is a zip archive whose member contents differ (the members named below): the files packed into it differ`,
        fix: 'fix the members named below (their own build step), then the archive follows',
      };
    case 'gzip-header':
      return {
        cause: `${it} is gzip data that is equal except for its header (the compressor recorded the file's mtime or name)`,
        fix: 'compress with gzip -n (no name, no time), Python gzip.GzipFile(mtime=0), or run strip-nondeterminism on the output',
      };
    case 'manifest-consequence':
      return {
        cause: `${it} records hashes of other files and differs only because files it lists differ (it is a consequence, not a cause)`,
        fix: 'fix the files it lists (named below); this manifest then matches by itself',
      };
    case 'layering':
      return {
        cause: 'the images hold the same files split into other layers (a squashed image, a merged or split RUN step, another COPY order)',
        fix: 'build both with the same Dockerfile steps or Nix layering (dockerTools maxLayers); the content itself is reproducible',
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

/** The fix for a zip's member times or order: a wheel's build reads SOURCE_DATE_EPOCH. */
function zipFix(subject: string): string {
  if (/\.whl$/i.test(subject) || subject === '') {
    return 'build the wheel with SOURCE_DATE_EPOCH set (`pip wheel`, `python -m build`: the wheel package clamps member times to it)';
  }
  if (/\.jar$/i.test(subject)) return 'set a fixed archive time (Maven project.build.outputTimestamp; Gradle preserveFileTimestamps=false, reproducibleFileOrder=true)';
  return 'write the zip with fixed member times (touch -d @$SOURCE_DATE_EPOCH, zip -X), or run strip-nondeterminism on it';
}

/**
 * A short name for the change that removes a kind of difference: kinds with the same label are
 * removed by one change, which "What to fix first" counts together.
 */
export function fixLabel(kind: DifferenceKind): string {
  switch (kind) {
    case 'config-created':
    case 'history-created':
    case 'index-field':
    case 'mtime':
      return 'set SOURCE_DATE_EPOCH (buildx: rewrite-timestamp=true)';
    case 'pyc-timestamp':
    case 'pyc-content':
      return 'compile .pyc with --invalidation-mode checked-hash and PYTHONHASHSEED=0';
    case 'elf-build-time':
      return 'compile with SOURCE_DATE_EPOCH (embedded __DATE__/__TIME__)';
    case 'elf-build-id':
      return 'link with a deterministic build ID';
    case 'elf-sections':
      return 'compile with the same inputs, flags and -ffile-prefix-map';
    case 'zip-timestamps':
    case 'zip-order':
      return 'build wheels/zips with SOURCE_DATE_EPOCH (pip wheel, python -m build)';
    case 'zip-compression':
      return 'compress archives with the same tool and level';
    case 'zip-content':
      return 'fix the archive members that differ';
    case 'gzip-header':
      return 'gzip -n (no name or time in gzip headers)';
    case 'attestation':
      return 'build with provenance=false, sbom=false';
    case 'compression':
    case 'layer-encoding':
      return 'compress layers the same way';
    case 'file-order':
    case 'tar-metadata':
      return 'write layers as sorted tars with numeric owners';
    case 'mode':
    case 'uid-gid':
      return 'set file modes and owners explicitly';
    case 'layering':
    case 'layer-count':
      return 'build the same layers on both sides';
    case 'manifest-consequence':
      return 'nothing: fix the files it lists';
    case 'content':
    case 'size':
      return 'make the steps that write these files deterministic';
    case 'type':
    case 'link-target':
    case 'only-in-a':
    case 'only-in-b':
      return 'make the steps that create these paths independent of caches and host state';
    case 'config-field':
      return 'pass the same build arguments, labels and base image';
    case 'manifest-field':
      return 'fix the config and layer differences (the manifest follows)';
    case 'manifest-encoding':
      return 'push both images with the same tool';
    case 'platforms':
      return 'build the same platforms on both sides';
    case 'pax':
      return 'write layers without atime/ctime or host xattrs';
  }
}

/**
 * The order of causes with the same count: what a person can act on first (a file's own content)
 * before packaging, consequences last.
 */
export const KIND_RANK: readonly DifferenceKind[] = [
  'elf-build-time',
  'elf-build-id',
  'elf-sections',
  'zip-content',
  'zip-timestamps',
  'zip-order',
  'zip-compression',
  'gzip-header',
  'content',
  'size',
  'pyc-content',
  'pyc-timestamp',
  'type',
  'link-target',
  'only-in-a',
  'only-in-b',
  'mode',
  'uid-gid',
  'mtime',
  'pax',
  'file-order',
  'tar-metadata',
  'layering',
  'layer-count',
  'compression',
  'layer-encoding',
  'config-created',
  'history-created',
  'config-field',
  'manifest-field',
  'manifest-encoding',
  'index-field',
  'attestation',
  'platforms',
  'manifest-consequence',
];
