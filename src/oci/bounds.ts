// What a hostile image archive or description can make a reader hold, and the error every image
// reader throws. Real images stay far below each limit (an OCI archive holds a few dozen members,
// a manifest or config a few hundred KiB, a pax header a few hundred bytes); a file that crosses
// one is refused with a clear error instead of being read into memory.

/** An unreadable, corrupt, inconsistent or over-limit image: an error, never a verdict. */
export class ImageArchiveError extends Error {}

export const LIMITS = {
  /** A tar pax or GNU long-name header body (and all of them before one entry, and the global ones). */
  tarMetadataBytes: 1 << 20,
  /** Members of an image archive (not of a layer: layers are streamed, never listed). */
  archiveMembers: 100_000,
  /** One JSON document of an image: index.json, manifest.json, an index, a manifest, a config. */
  documentBytes: 16 << 20,
  /** All JSON documents of one image held at once. */
  documentsBytes: 64 << 20,
  /** An image description (`describe` output), as JSON (after gunzip). */
  descriptionBytes: 64 << 20,
  /**
   * Arrays and objects, and values, in a description: what JSON.parse turns into heap objects and
   * pointers (64 MiB of `[],` would be 22 M arrays). A real one has ~2 and ~12 per file.
   */
  descriptionContainers: 2_000_000,
  descriptionValues: 8_000_000,
} as const;

export function mib(bytes: number): string {
  return `${Math.round((bytes / (1 << 20)) * 10) / 10} MiB`;
}
