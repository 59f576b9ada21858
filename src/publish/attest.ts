// Build provenance for the pushed digest with @actions/attest, as actions/attest-build-provenance
// makes it: the subject is the image name (no tag) and its sha256. With transparency-log false the
// attestation is signed by GitHub's own Sigstore instance instead of the public-good one (Rekor).
// Needs `id-token: write` and `attestations: write` (main checks the OIDC token is there first).
// Not exercised by this repository's tests: @actions/attest speaks to fixed public hosts (GitHub's
// OIDC issuer, Fulcio, Rekor, the attestations API) that no loopback stand-in can answer for.
import { StageFailure } from '../action/stage.js';

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
    const server = process.env.GITHUB_SERVER_URL ?? 'https://github.com';
    return attestation.attestationID ? `${server}/${process.env.GITHUB_REPOSITORY}/attestations/${attestation.attestationID}` : (attestation.tlogID ?? '');
  } catch (error) {
    throw new StageFailure('Attestation failed', `@actions/attest: ${(error as Error).message}`);
  }
}
