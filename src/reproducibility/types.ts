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
  /** ELF file with a GNU build-id note: the id and the digest of the file with the id zeroed. */
  elf?: { buildId: string; maskedSha256: string };
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
}

export interface PlatformLadder {
  platform: string;
  manifest: Rung;
  config: Rung;
  layers: LayerRung[];
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
  /** Differences counted but not kept in `differences` (see maxDifferences). */
  notListed: number;
}

export interface ImageSide {
  input: string;
  kind: string;
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
  differences: Difference[];
  counts: DifferenceCounts;
  /** One line per distinct cause, most frequent first. */
  causes: Array<{ kind: DifferenceKind; count: number; cause: string; fix: string; example?: string }>;
  stats: ComparisonStats;
}

export interface CompareOptions {
  /**
   * Compare only this platform ("linux/amd64"): its manifest then plays the top digest, and the
   * index (other platforms, attestations) is left out. Default: every platform, index included.
   */
  platform?: string;
  /** Differences kept in the report (all are counted). Default 5000. */
  maxDifferences?: number;
  /** Look for ELF build-id notes and pyc headers (costs a second hash of those files). Default true. */
  detectArtifacts?: boolean;
}
