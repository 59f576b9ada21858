// The shapes the verify-reproducibility engine produces: a JSON-serialisable report, the
// per-file summaries it compares, and the differences with their likely cause and fix.
import type { AttestationInfo } from '../oci/types.js';
import type { TarEntryType } from '../oci/tar.js';

/** What the engine knows about one layer entry; compared field by field, in this order. */
export interface FileSummary {
  path: string;
  type: TarEntryType;
  /** Permission bits only (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 of the body, regular files only. */
  sha256?: string;
  mtime: number;
  linkname: string;
  /** pax records other than path/linkpath/size/uid/gid/mtime (xattrs, atime, ctime…), "k=v" lines. */
  pax?: string;
  /** Compiled Python with a timestamp header: the header's source mtime and the digest of the file without it. */
  pyc?: { mtime: number; maskedSha256: string };
  /** ELF file: its build ID, section layout, embedded date/time strings and block digests (see elf.ts). */
  elf?: ElfSummary;
  /** zip/wheel/jar: the central directory's members (see zip.ts). */
  zip?: ZipSummary;
  /** A manifest that hashes other files (wheel RECORD, dpkg md5sums): path → recorded hash. */
  manifest?: ManifestSummary;
  /** A gzip member: its header fields and the digest of the rest. */
  gz?: GzipSummary;
}

export interface ElfSummary {
  /** The GNU build ID (hex), '' when the file has none. */
  buildId: string;
  /** Digest of the file with the build ID zeroed (over the block digests). */
  maskedSha256: string;
  /** Bytes per block of `blocks`. */
  blockSize?: number;
  /** 16 hex digits per block: a digest of each block, build ID zeroed. */
  blocks?: string;
  /** [name, file offset, size] of each section with bytes in the file. */
  sections?: Array<[string, number, number]>;
  /** [file offset, text] of `__DATE__`/`__TIME__`-shaped C strings in read-only data. */
  times?: Array<[number, string]>;
}

/** [name, DOS date/time, method, crc32, compressed size, unix mtime from the UT extra field or -1]. */
export type ZipMember = [string, number, number, number, number, number];

export interface ZipSummary {
  members: ZipMember[];
  /** More members than kept. */
  truncated?: boolean;
}

export interface ManifestSummary {
  format: 'record' | 'md5sums';
  /** [image path of the listed file, recorded hash], in file order. */
  entries: Array<[string, string]>;
}

export interface GzipSummary {
  mtime: number;
  name: string;
  os: number;
  /** Digest of the member after its header. */
  maskedSha256: string;
}

export type DifferenceWhere = 'index' | 'manifest' | 'config' | 'layer' | 'file';

export type DifferenceKind =
  | 'platforms'
  | 'attestation'
  | 'index-field'
  | 'manifest-field'
  | 'manifest-encoding'
  | 'layer-count'
  | 'compression'
  | 'layer-encoding'
  | 'config-created'
  | 'history-created'
  | 'config-field'
  | 'file-order'
  | 'tar-metadata'
  | 'only-in-a'
  | 'only-in-b'
  | 'type'
  | 'link-target'
  | 'mode'
  | 'uid-gid'
  | 'size'
  | 'content'
  | 'pyc-timestamp'
  | 'pyc-content'
  | 'elf-build-id'
  | 'elf-build-time'
  | 'elf-sections'
  | 'zip-timestamps'
  | 'zip-order'
  | 'zip-compression'
  | 'zip-content'
  | 'gzip-header'
  | 'manifest-consequence'
  | 'layering'
  | 'mtime'
  | 'pax';

export type DiffValue = string | number | boolean | null;

export interface Difference {
  where: DifferenceWhere;
  kind: DifferenceKind;
  platform?: string;
  /** Layer position (0-based) and the diff_ids on each side. */
  layer?: { index: number; diffIdA?: string; diffIdB?: string };
  /** File path, for where = 'file'. */
  path?: string;
  /** The field that differs: a config path ("config.Labels.x", "created", "history[2].created"), a file field, … */
  field: string;
  a: DiffValue;
  b: DiffValue;
  /** What inside the file differs (ELF sections and time strings, zip members, manifest lines). */
  detail?: string;
  cause: string;
  fix: string;
}

export interface BlobInfo {
  digest: string;
  size: number;
  mediaType?: string;
}

export interface Rung {
  equal: boolean;
  a?: string;
  b?: string;
}

export type LayerStatus = 'equal' | 'compression-only' | 'differs' | 'only-in-a' | 'only-in-b';

export interface LayerRung {
  index: number;
  status: LayerStatus;
  equal: boolean;
  a?: BlobInfo & { diffId?: string };
  b?: BlobInfo & { diffId?: string };
  /** Set when the layer was walked: how many entries were compared and how many differ. */
  filesCompared?: number;
  filesDiffering?: number;
  fileOrderDiffers?: boolean;
  /** Entries on one side only (part of filesDiffering). */
  filesOnlyInA?: number;
  filesOnlyInB?: number;
}

export interface PlatformLadder {
  platform: string;
  manifest: Rung;
  config: Rung;
  layers: LayerRung[];
  /**
   * Set when the layer counts differ: the flattened filesystems (layers applied in order, whiteouts
   * honoured) compared path by path. `differing` 0 means "same filesystem, different layers".
   */
  filesystem?: { compared: number; differing: number; onlyInA: number; onlyInB: number };
}

export type { AttestationInfo } from '../oci/types.js';

export interface Ladder {
  /** The digest a pushed tag would point to: an index (when attestations or several platforms) or a manifest. */
  top: Rung & { mediaTypeA?: string; mediaTypeB?: string };
  platforms: PlatformLadder[];
  attestations: { a: AttestationInfo[]; b: AttestationInfo[] };
}

export interface ComparisonStats {
  /** Bytes read from disk (or from the descriptions), both sides together. */
  bytesRead: number;
  seconds: number;
  throughputMBps: number;
  /** Bytes of layers decompressed and walked entry by entry, both sides. */
  bytesWalked: number;
  blobsVerified: number;
}

export interface DifferenceCounts {
  total: number;
  byWhere: Partial<Record<DifferenceWhere, number>>;
  byKind: Partial<Record<DifferenceKind, number>>;
  filesCompared: number;
  filesDiffering: number;
  /** Of filesDiffering: entries present on one side only (the rest were compared and differ). */
  filesOnlyInA: number;
  filesOnlyInB: number;
  /** Differences counted but not kept in `differences` (see maxDifferences). */
  notListed: number;
}

/** One cause: every difference of one kind, counted, with examples (always) and a fix. */
export interface CauseGroup {
  kind: DifferenceKind;
  count: number;
  cause: string;
  fix: string;
  /** A short name for the fix; causes with the same label are removed by the same change. */
  fixLabel: string;
  /** The first example's subject (a path or a field). */
  example?: string;
  /** The first few subjects, always listed whatever the entry cap. */
  examples: string[];
  /** How many of this cause's differences are in `differences`. */
  listed: number;
  /** Set when these differences follow from others (a RECORD that hashes changed files). */
  consequence?: boolean;
}

export interface FixLine {
  fixLabel: string;
  fix: string;
  /** Differences it would remove. */
  count: number;
  kinds: DifferenceKind[];
  examples: string[];
}

export interface ImageSide {
  input: string;
  kind: string;
  /** The engine that built it, where its description records one ("docker 26.1.5, buildx 0.13.1 (docker driver)"). */
  engine?: string;
}

export interface ComparisonReport {
  schema: 'vllm-rocm-action/reproducibility-report/v1';
  /** Both images have the same top digest: a pushed tag would resolve to the same bytes. */
  reproducible: boolean;
  /** Every platform image is equal once attestations are set aside (and layer compression, if ignored). */
  contentReproducible: boolean;
  digestA: string;
  digestB: string;
  a: ImageSide;
  b: ImageSide;
  ladder: Ladder;
  /** Grouped by cause, in the order of `causes`; each cause keeps up to its own cap. */
  differences: Difference[];
  counts: DifferenceCounts;
  /** One entry per cause, rarest first (consequences last): the order of every report format. */
  causes: CauseGroup[];
  /** The fixes that remove the most differences, and those that remove the rarest causes. */
  fixFirst: { most: FixLine[]; rarest: FixLine[] };
  stats: ComparisonStats;
}

export interface CompareOptions {
  /**
   * Compare only this platform ("linux/amd64"): its manifest then plays the top digest, and the
   * index (other platforms, attestations) is left out. Default: every platform, index included.
   */
  platform?: string;
  /**
   * Differences kept in the report per cause (all are counted). Default: 1000 in all, shared so
   * that each cause keeps all its entries or an equal share of at least 25.
   */
  maxDifferences?: number;
  /** Look for ELF build-id notes and pyc headers (costs a second hash of those files). Default true. */
  detectArtifacts?: boolean;
}
