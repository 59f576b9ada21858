// Signs a pushed digest with cosign. Secrets never reach argv: the key is a 0600 file, its
// password travels as COSIGN_PASSWORD, the registry credentials as a DOCKER_CONFIG directory.
import { capture } from '../tool/capture.js';

export interface CosignOptions {
  /** image@sha256:… — a digest, never a tag, so the signature covers exactly what was pushed. */
  ref: string;
  /** A private key file (key signing), or undefined for keyless (OIDC). */
  keyFile?: string;
  password?: string;
  transparencyLog: boolean;
  /** The registry speaks plain HTTP (loopback only). */
  http: boolean;
  dockerConfig?: string;
}

export class CosignError extends Error {}

function env(opts: CosignOptions): Record<string, string> {
  const out: Record<string, string> = {};
  if (opts.dockerConfig) out.DOCKER_CONFIG = opts.dockerConfig;
  // Set even when empty: cosign would otherwise prompt for a password on a terminal.
  if (opts.keyFile) out.COSIGN_PASSWORD = opts.password ?? '';
  return out;
}

export function cosignSignArgs(opts: CosignOptions): string[] {
  const args = ['sign', '--yes'];
  if (opts.keyFile) args.push('--key', opts.keyFile);
  if (!opts.transparencyLog) args.push('--tlog-upload=false');
  if (opts.http) args.push('--allow-http-registry');
  args.push(opts.ref);
  return args;
}

/** Signs and returns the signature's reference (cosign's `triangulate`). */
export async function cosignSign(opts: CosignOptions): Promise<string> {
  if (!/@sha256:[0-9a-f]{64}$/.test(opts.ref)) throw new CosignError(`cosign signs digests only, not ${opts.ref}`);
  const signed = await capture('cosign', cosignSignArgs(opts), { env: env(opts) });
  if (signed.exitCode !== 0) throw new CosignError(`cosign sign ${opts.ref} failed (exit ${signed.exitCode}): ${tail(signed.stderr)}`);
  const found = await capture('cosign', ['triangulate', '--type', 'signature', ...(opts.http ? ['--allow-http-registry'] : []), opts.ref], { env: env(opts) });
  if (found.exitCode !== 0) throw new CosignError(`cosign triangulate ${opts.ref} failed (exit ${found.exitCode}): ${tail(found.stderr)}`);
  return found.stdout.trim();
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-5).join(' ');
}

export interface AttestOptions extends CosignOptions {
  /** The predicate's JSON file and its type URI (cosign wraps it in an in-toto statement). */
  predicateFile: string;
  type: string;
}

export function cosignAttestArgs(opts: AttestOptions): string[] {
  const args = ['attest', '--yes', '--type', opts.type, '--predicate', opts.predicateFile];
  if (opts.keyFile) args.push('--key', opts.keyFile);
  if (!opts.transparencyLog) args.push('--tlog-upload=false');
  if (opts.http) args.push('--allow-http-registry');
  args.push(opts.ref);
  return args;
}

/** The smoke-test predicate's type, as publish attests it (src/attest/predicates.ts PREDICATE_TYPES); cosign's --type takes the URI itself. */
export const SMOKE_TEST_PREDICATE_TYPE = 'https://github.com/vllm-rocm-action/vllm-rocm-action/predicates/smoke-test/v1';

export interface VerifyAttestationOptions {
  ref: string;
  predicateType: string;
  /** A public key file; or, keyless, the certificate's identity and OIDC issuer. */
  keyFile?: string;
  identity?: { identity: string; issuer: string };
  /** false: accept an attestation that was never uploaded to Rekor (cosign attest --tlog-upload=false). */
  transparencyLog: boolean;
  http: boolean;
}

/** Output larger than this is not a list of attestations of one image. */
const MAX_VERIFY_OUTPUT = 16 << 20;

export function cosignVerifyAttestationArgs(opts: VerifyAttestationOptions): string[] {
  const args = ['verify-attestation', '--type', opts.predicateType];
  if (opts.keyFile) args.push('--key', opts.keyFile);
  else if (opts.identity) args.push('--certificate-identity', opts.identity.identity, '--certificate-oidc-issuer', opts.identity.issuer);
  else throw new CosignError('verifying an attestation needs a public key or a keyless identity');
  if (!opts.transparencyLog) args.push('--insecure-ignore-tlog=true');
  if (opts.http) args.push('--allow-http-registry');
  args.push(opts.ref);
  return args;
}

/**
 * Attests a pushed digest with cosign (a DSSE-signed in-toto statement, stored beside the image:
 * the `sha256-<hex>.att` tag where the registry has no referrers API) and returns where it is.
 */
export async function cosignAttest(opts: AttestOptions): Promise<string> {
  if (!/@sha256:[0-9a-f]{64}$/.test(opts.ref)) throw new CosignError(`cosign attests digests only, not ${opts.ref}`);
  const attested = await capture('cosign', cosignAttestArgs(opts), { env: env(opts) });
  if (attested.exitCode !== 0) throw new CosignError(`cosign attest --type ${opts.type} ${opts.ref} failed (exit ${attested.exitCode}): ${tail(attested.stderr)}`);
  const found = await capture('cosign', ['triangulate', '--type', 'attestation', ...(opts.http ? ['--allow-http-registry'] : []), opts.ref], { env: env(opts) });
  if (found.exitCode !== 0) throw new CosignError(`cosign triangulate ${opts.ref} failed (exit ${found.exitCode}): ${tail(found.stderr)}`);
  return found.stdout.trim();
}

/**
 * The predicates of `ref`'s attestations of `predicateType` that cosign verified. cosign prints each
 * verified attestation as one DSSE envelope per line on stdout, its in-toto statement in `payload`
 * (base64) (sigstore/cosign cmd/cosign/cli/verify/verify_attestation.go); a statement of another
 * type, or one that is not JSON, is left out.
 */
export async function cosignVerifyAttestation(opts: VerifyAttestationOptions): Promise<unknown[]> {
  const verified = await capture('cosign', cosignVerifyAttestationArgs(opts));
  if (verified.exitCode !== 0) throw new CosignError(`cosign verify-attestation --type ${opts.predicateType} ${opts.ref} failed (exit ${verified.exitCode}): ${tail(verified.stderr)}`);
  if (verified.stdout.length > MAX_VERIFY_OUTPUT) throw new CosignError(`cosign verify-attestation printed more than ${MAX_VERIFY_OUTPUT} bytes for ${opts.ref}`);
  return predicatesOf(verified.stdout, opts.predicateType);
}

/** The predicates of the given type in cosign's output (one envelope a line). */
export function predicatesOf(stdout: string, predicateType: string): unknown[] {
  const out: unknown[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const envelope = JSON.parse(line) as { payload?: unknown };
      if (typeof envelope.payload !== 'string') continue;
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { predicateType?: unknown; predicate?: unknown };
      if (statement.predicateType === predicateType && statement.predicate !== undefined) out.push(statement.predicate);
    } catch {
      continue;
    }
  }
  return out;
}
