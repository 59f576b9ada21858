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
