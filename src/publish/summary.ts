// publish's job summary: refs, digest, size, signature, attestation.
import { formatBytes, writeTableSummary } from '../action/summary.js';
import { codeSpan } from '../tool/markdown.js';

export interface PublishSummary {
  image: string;
  kind: string;
  sourceDigest: string;
  digest: string;
  refs: string[];
  sizeBytes: number;
  uploaded: number;
  mounted: number;
  existing: number;
  signature?: string;
  attestationUrl?: string;
  /** What was attested beside the signature or provenance (labels). */
  evidence?: string[];
}

export function publishSummaryRows(s: PublishSummary): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['refs', s.refs.map((r) => codeSpan(r)).join('<br>')],
    ['digest', `\`${s.digest}\``],
  ];
  if (s.sourceDigest !== s.digest) rows.push(['source digest', `\`${s.sourceDigest}\` (annotations added)`]);
  rows.push(
    ['source', s.kind],
    ['size', formatBytes(s.sizeBytes)],
    ['blobs', `${s.uploaded} uploaded, ${s.mounted} mounted, ${s.existing} already there`],
    ['signature', s.signature ? codeSpan(s.signature) : 'not signed'],
    ['attestation', s.attestationUrl ?? 'none'],
  );
  if (s.evidence?.length) rows.push(['evidence', s.evidence.join('<br>')]);
  return rows;
}

export async function writePublishSummary(s: PublishSummary): Promise<void> {
  await writeTableSummary(`Published ${s.image}`, publishSummaryRows(s));
}
