// Attestations with @actions/attest. Build provenance for the pushed digest, as
// actions/attest-build-provenance makes it (the subject is the image name, no tag, and its
// sha256), and the suite's evidence under its own predicate types, each Sigstore bundle then
// pushed to the registry as an OCI referrer of the digest (src/registry/referrers.ts), as
// actions/attest's push-to-registry does. With transparency-log false the attestation is signed by
// GitHub's own Sigstore instance instead of the public-good one (Rekor). Needs `id-token: write`
// and `attestations: write` (main checks the OIDC token is there first).
// Not exercised up to the signature by this repository's tests: @actions/attest speaks to fixed
// public hosts (GitHub's OIDC issuer, Fulcio, Rekor, the attestations API) that no loopback
// stand-in can answer for; the referrer push is tested against the loopback registry.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stageTempDir } from '../action/paths.js';
import { StageFailure } from '../action/stage.js';
import type { RegistryClient } from '../registry/client.js';
import { pushReferrer, SIGSTORE_BUNDLE } from '../registry/referrers.js';
import type { Repository } from '../registry/reference.js';

export async function attestImage(name: string, digest: string, transparencyLog: boolean, token: string): Promise<string> {
  if (!token) throw new StageFailure('Attestation failed', 'attest: true needs github-token (the default is the job token)');
  try {
    // Loaded only when asked for: Sigstore's client is most of the bundle's start-up memory.
    const { attestProvenance } = await import('@actions/attest');
    const attestation = await attestProvenance({
      subjects: [{ name, digest: { sha256: digest.replace(/^sha256:/, '') } }],
      token,
      sigstore: transparencyLog ? 'public-good' : 'github',
    });
    return attestationUrl(attestation);
  } catch (error) {
    throw new StageFailure('Attestation failed', `@actions/attest: ${(error as Error).message}`);
  }
}

function attestationUrl(attestation: { attestationID?: string; tlogID?: string }): string {
  const server = process.env.GITHUB_SERVER_URL ?? 'https://github.com';
  return attestation.attestationID ? `${server}/${process.env.GITHUB_REPOSITORY}/attestations/${attestation.attestationID}` : (attestation.tlogID ?? '');
}

export interface PredicateAttestation {
  name: string;
  digest: string;
  type: string;
  predicate: object;
  transparencyLog: boolean;
  token: string;
  registry: RegistryClient;
  repository: Repository;
  /** The pushed manifest's media type and size (the referrer's subject descriptor). */
  subject: { mediaType: string; size: number };
}

/** One of the suite's predicates attested with @actions/attest and pushed as a referrer; returns where. */
export async function attestPredicate(a: PredicateAttestation): Promise<string> {
  let bundle: unknown;
  let url: string;
  try {
    const { attest } = await import('@actions/attest');
    const attestation = await attest({
      subjects: [{ name: a.name, digest: { sha256: a.digest.replace(/^sha256:/, '') } }],
      predicateType: a.type,
      predicate: a.predicate,
      token: a.token,
      sigstore: a.transparencyLog ? 'public-good' : 'github',
    });
    bundle = attestation.bundle;
    url = attestationUrl(attestation);
  } catch (error) {
    throw new StageFailure('Attestation failed', `@actions/attest (${a.type}): ${(error as Error).message}`);
  }
  return `${url} ${await pushBundle(a, Buffer.from(JSON.stringify(bundle)))}`;
}

/** The bundle as a referrer of the digest: its manifest's reference. */
export async function pushBundle(a: Pick<PredicateAttestation, 'digest' | 'subject' | 'type' | 'registry' | 'repository'>, bundle: Buffer): Promise<string> {
  await mkdir(stageTempDir('publish'), { recursive: true, mode: 0o700 });
  const temp = await mkdtemp(join(stageTempDir('publish'), 'referrer-'));
  try {
    const pushed = await pushReferrer(a.registry, a.repository, { mediaType: a.subject.mediaType, digest: a.digest, size: a.subject.size }, {
      artifactType: SIGSTORE_BUNDLE,
      mediaType: SIGSTORE_BUNDLE,
      bytes: bundle,
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': a.type },
    }, temp);
    return `${a.repository.host}/${a.repository.path}@${pushed.digest}`;
  } catch (error) {
    throw new StageFailure('Attestation failed', `the ${a.type} attestation could not be pushed as a referrer of ${a.digest}: ${(error as Error).message}`);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
