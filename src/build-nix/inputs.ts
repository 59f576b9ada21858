// build-nix inputs, parsed once. verify-reproducibility reuses this parser for `builder: nix`.
import { isAbsolute, resolve } from 'node:path';
import { InputError, oneOf, optionalString, type InputSource } from '../action/inputs.js';
import { isPublicKey, isSecretKey } from '../nix/keys.js';
import { pushTarget, pushToSecrets, redactLine } from './push.js';

export const NIX_CACHE_TYPES = ['gha', 'none'] as const;

export interface BuildNixInputs {
  /** A flake reference; local paths are made absolute. */
  flake: string;
  /** The flake's directory when the flake is local (for flake.lock and the "no flake" check). */
  flakeDir?: string;
  attr: string;
  system: string;
  cache: (typeof NIX_CACHE_TYPES)[number];
  pushTo?: string;
  signingKey?: string;
  trustedPublicKeys: string[];
  extraArgs: string[];
}

const ATTR = /^[A-Za-z0-9_'-]+(\.[A-Za-z0-9_'-]+)*$/;
const SYSTEM = /^[a-z0-9_]+-[a-z0-9]+$/;
const PUSH_SCHEMES = ['file:', 'http:', 'https:', 's3:', 'ssh:', 'ssh-ng:'];

export function defaultSystem(arch = process.arch): string {
  return arch === 'arm64' ? 'aarch64-linux' : 'x86_64-linux';
}

/** A local flake ref: a path, `path:`, or `git+file:` (with no query). */
export function localFlakeDir(flake: string, workspace: string): string | undefined {
  if (flake.startsWith('path:')) return resolve(workspace, flake.slice(5).split('?')[0]!);
  if (flake.startsWith('git+file:')) return resolve(workspace, flake.slice(9).replace(/^\/\//, '').split('?')[0]!);
  if (/^[a-z+]+:/.test(flake)) return undefined; // github:, git+https:, …
  return resolve(workspace, flake);
}

/** Splits extra-args on whitespace, honouring single and double quotes. */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return args;
}

export function parseBuildNixInputs(get: InputSource, workspace: string): BuildNixInputs {
  const flakeInput = optionalString(get, 'flake') ?? '.';
  const flakeDir = localFlakeDir(flakeInput, workspace);
  const flake = flakeDir && !/^[a-z+]+:/.test(flakeInput) ? flakeDir : flakeInput;

  const attr = optionalString(get, 'attr') ?? 'vllm-container';
  if (!ATTR.test(attr)) throw new InputError('attr', `'${attr}' is not an attribute name (e.g. vllm-container)`);
  const system = optionalString(get, 'system') ?? defaultSystem();
  if (!SYSTEM.test(system)) throw new InputError('system', `'${system}' is not a Nix system such as x86_64-linux`);

  const pushTo = optionalString(get, 'push-to');
  if (pushTo !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(pushTo);
    } catch {
      url = undefined;
    }
    if (!url || !PUSH_SCHEMES.includes(url.protocol) || (url.protocol === 'file:' && !isAbsolute(url.pathname))) {
      throw new InputError('push-to', `'${redactLine(pushTo, pushToSecrets(pushTo))}' is not a binary cache URL: use file:///path, http(s)://host/…, s3://bucket or ssh://host`);
    }
    pushTarget(pushTo); // credentials that a netrc line cannot carry are an input error now
  }

  const signingKey = optionalString(get, 'signing-key');
  if (signingKey !== undefined && !isSecretKey(signingKey)) {
    // Never echo the value: it is a secret, even when malformed.
    throw new InputError('signing-key', 'is not a Nix secret key (name:base64 of a 64-byte ed25519 key, as `nix key generate-secret` or `nix-store --generate-binary-cache-key` write)');
  }
  const trustedPublicKeys = (optionalString(get, 'trusted-public-keys') ?? '').split(/[\s,]+/).filter(Boolean);
  for (const key of trustedPublicKeys) {
    if (!isPublicKey(key)) throw new InputError('trusted-public-keys', `'${key}' is not a public key of the form name:base64`);
  }

  return {
    flake,
    flakeDir,
    attr,
    system,
    cache: oneOf(get, 'cache', NIX_CACHE_TYPES, 'gha'),
    pushTo,
    signingKey,
    trustedPublicKeys,
    extraArgs: splitArgs(get('extra-args')),
  };
}
