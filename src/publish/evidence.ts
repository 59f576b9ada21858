// The evidence publish attests to the digest beside its signature: the SBOM read from the image
// itself, and the reproducibility and smoke-test verdicts from their stages' reports. A report from
// a file is untrusted: size-capped, parsed, type-checked field by field and schema-checked
// (src/attest/predicates.ts); a reproducibility report must be about the image being published.
import { createHash } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StageFailure } from '../action/stage.js';
import { cycloneDx } from '../attest/cyclonedx.js';
import { readImageContents, type ImageContents, type ImageSource } from '../attest/image-contents.js';
import { openedImageSources, stagedImageSources } from '../attest/image-source.js';
import { PREDICATE_TYPES, ReportError, reproducibilityPredicate, smokeTestPredicate } from '../attest/predicates.js';
import { withImage } from '../oci/image.js';
import type { SourceImage, SourceSpec } from '../registry/source.js';
import type { Descriptor } from '../oci/types.js';

export interface Evidence {
  /** What it is, for the log and the summary. */
  label: string;
  type: string;
  predicate: object;
}

/** A report file larger than this is refused (a real reproducibility report is a few MiB at most). */
export const MAX_REPORT_BYTES = 32 << 20;

/** Reads a report file: at most MAX_REPORT_BYTES, JSON, and the digest of its exact bytes. */
export async function readReportFile(path: string, input: string): Promise<{ json: unknown; sha256: string }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new StageFailure('Report unreadable', `${input}: ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new StageFailure('Report refused', `${input}: ${path} is not a regular file`);
    if (info.size > MAX_REPORT_BYTES) throw new StageFailure('Report refused', `${input}: ${path} is ${info.size} bytes; a report is at most ${MAX_REPORT_BYTES} bytes`);
    const bytes = Buffer.alloc(info.size);
    const { bytesRead } = await handle.read(bytes, 0, info.size, 0);
    let json: unknown;
    try {
      json = JSON.parse(bytes.subarray(0, bytesRead).toString('utf8'));
    } catch (error) {
      throw new StageFailure('Report refused', `${input}: ${path} is not JSON (${(error as Error).message})`);
    }
    return { json, sha256: `sha256:${createHash('sha256').update(bytes.subarray(0, bytesRead)).digest('hex')}` };
  } finally {
    await handle.close();
  }
}

export interface EvidenceRequest {
  source: SourceSpec;
  loaded: SourceImage;
  /** The digest of the image as read (before publish's annotations, if any) and as pushed. */
  sourceDigest: string;
  name: string;
  digest: string;
  reproducibilityReport?: string;
  smokeTestReport?: string;
  /** Fetches a blob that is not on this runner (a promotion within one registry mounts, never downloads). */
  fetchBlob(d: Descriptor, file: string): Promise<void>;
  temp: string;
  tool: { name: string; version: string };
}

export async function gatherEvidence(req: EvidenceRequest): Promise<Evidence[]> {
  const out: Evidence[] = [];
  if (req.reproducibilityReport) {
    const { json, sha256 } = await readReportFile(req.reproducibilityReport, 'reproducibility-report');
    const predicate = asPredicate('reproducibility-report', () => reproducibilityPredicate(json, sha256));
    const about = [predicate.digests.a, predicate.digests.b];
    if (!about.includes(req.sourceDigest) && !about.includes(req.digest)) {
      throw new StageFailure('Report refused', `reproducibility-report is about ${[...new Set(about)].join(' and ')}, not the published image ${req.sourceDigest}: a verdict is attested only to the image it was reached on`);
    }
    out.push({ label: `reproducibility: ${predicate.verdict}`, type: PREDICATE_TYPES.reproducibility, predicate });
  }
  if (req.smokeTestReport) {
    const { json } = await readReportFile(req.smokeTestReport, 'smoke-test-report');
    const predicate = asPredicate('smoke-test-report', () => smokeTestPredicate(json));
    out.push({ label: `smoke test: ${predicate.verdict}`, type: PREDICATE_TYPES.smokeTest, predicate });
  }
  const contents = await imageContents(req);
  out.push({ label: `SBOM: ${contents.packages.length} packages (CycloneDX 1.5)`, type: PREDICATE_TYPES.sbom, predicate: cycloneDx({ name: req.name, digest: req.digest }, contents, req.tool) });
  return out;
}

function asPredicate<T>(input: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ReportError) throw new StageFailure('Report refused', `${input}: ${error.message}`);
    throw error;
  }
}

/** An archive or layout is read through the shared reader; an engine or registry image from publish's verified blobs. */
async function imageContents(req: EvidenceRequest): Promise<ImageContents> {
  if (req.source.kind === 'path') return withImage(req.source.path, async (image) => mergeContents(await readAll(openedImageSources(image))));
  const fetched = join(req.temp, 'sbom-blobs');
  const byDigest = new Map(req.loaded.blobs.map((b) => [b.digest, b]));
  const sources = await stagedImageSources({
    label: req.loaded.label,
    manifests: req.loaded.manifests,
    blobFile: async (d) => {
      const blob = byDigest.get(d.digest);
      // An engine image's blobs are staged whole under the digest of their own bytes; a registry's downloaded and checked.
      if (blob?.file && blob.file.offset === 0) return blob.file.path;
      await mkdir(fetched, { recursive: true, mode: 0o700 });
      const file = join(fetched, d.digest.replace(':', '-'));
      await req.fetchBlob(d, file);
      return file;
    },
  });
  return mergeContents(await readAll(sources));
}

async function readAll(sources: ImageSource[]): Promise<ImageContents[]> {
  const all: ImageContents[] = [];
  for (const source of sources) all.push(await readImageContents(source));
  return all;
}

function mergeContents(all: ImageContents[]): ImageContents {
  const [first, ...rest] = all;
  if (!first) return { packages: [], truncated: [] };
  for (const other of rest) {
    first.packages.push(...other.packages);
    first.truncated.push(...other.truncated);
  }
  return first;
}

/** The predicate as the JSON file cosign reads, 0600 in the run's private directory. */
export async function writePredicate(dir: string, index: number, evidence: Evidence): Promise<string> {
  const file = join(dir, `predicate-${index}.json`);
  await writeFile(file, JSON.stringify(evidence.predicate), { mode: 0o600 });
  return file;
}
