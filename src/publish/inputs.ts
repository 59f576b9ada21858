// publish's inputs, parsed once into a typed object (pure: the source of values is passed in).
import { isAbsolute, resolve } from 'node:path';
import { boolean, InputError, keyValuePairs, list, nonNegativeInteger, oneOf, optionalString, requiredString, type InputSource } from '../action/inputs.js';
import { isValidTag, parseReference, parseRepository, ReferenceError, type Repository } from '../registry/reference.js';
import { parseSource, SourceError, type SourceSpec } from '../registry/source.js';
import { tagsFromRef, type TagFlavor } from '../registry/ref-tags.js';

export const SIGN_MODES = ['none', 'cosign-key', 'cosign-keyless'] as const;
export type SignMode = (typeof SIGN_MODES)[number];

export interface PublishInputs {
  source: SourceSpec;
  image: Repository;
  tags: string[];
  annotations: Array<[string, string]>;
  /** Generate the OCI annotations (source, revision, version, created, …) under `annotations`. */
  ociAnnotations: boolean;
  /** The host the credentials are for. */
  registry: string;
  credentials?: { username: string; password: string };
  sign: SignMode;
  cosignKey?: string;
  cosignPassword?: string;
  transparencyLog: boolean;
  attest: boolean;
  githubToken: string;
  /** Attest the SBOM and the given reports to the digest, wherever the image is signed or attested. */
  evidence: boolean;
  /** verify-reproducibility's and smoke-test's JSON reports (absolute paths), untrusted until checked. */
  reproducibilityReport?: string;
  smokeTestReport?: string;
}

export interface RefContext {
  ref: string;
  sha: string;
  workspace: string;
}

/** The secret inputs, to mask before anything else runs. */
export const SECRET_INPUTS = ['password', 'cosign-key', 'cosign-password', 'github-token'] as const;

export function parsePublishInputs(get: InputSource, context: RefContext): PublishInputs {
  let image: Repository;
  try {
    image = parseRepository(requiredString(get, 'image', 'the repository to push to, e.g. ghcr.io/acme/vllm-rocm'));
  } catch (error) {
    if (error instanceof ReferenceError) throw new InputError('image', error.message);
    throw error;
  }

  let source: SourceSpec;
  try {
    source = parseSource(requiredString(get, 'source', 'an OCI archive, OCI layout directory, docker-archive, engine:<ref> or docker://<ref>@sha256:…'));
  } catch (error) {
    if (error instanceof SourceError || error instanceof ReferenceError) throw new InputError('source', error.message);
    throw error;
  }
  if (source.kind === 'path' && !isAbsolute(source.path)) source = { kind: 'path', path: resolve(context.workspace, source.path) };

  const tags = list(get, 'tags');
  for (const tag of tags) {
    if (!isValidTag(tag)) throw new InputError('tags', `'${tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128 characters; not starting with '.' or '-')`);
  }
  const flavor = parseTagFlavor(get);
  if (boolean(get, 'tag-from-ref', false)) {
    let fromRef: string[];
    try {
      fromRef = tagsFromRef(context.ref, context.sha, flavor);
    } catch (error) {
      throw new InputError('tag-from-ref', (error as Error).message);
    }
    // The ref is the pusher's text: its tags are checked as strictly as the tags input, before
    // anything is read, signed or pushed.
    for (const tag of fromRef) {
      if (!isValidTag(tag)) throw new InputError('tag-from-ref', `${context.ref}${flavor.prefix || flavor.suffix ? ' with tag-prefix/tag-suffix' : ''} gives '${tag}', which is not a valid tag (letters, digits, '_', '.', '-'; at most 128 characters; not starting with '.' or '-')`);
    }
    tags.push(...fromRef);
  } else {
    // tag-sha-length has a default ('7'), so only the flavor's own text is refused here.
    for (const name of ['tag-prefix', 'tag-suffix']) {
      if (optionalString(get, name) !== undefined) throw new InputError(name, "applies to tag-from-ref's tags: set tag-from-ref: true, or put the whole tag in tags");
    }
  }

  const annotations = keyValuePairs(get, 'annotations');
  for (const [key] of annotations) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._\-/]*$/.test(key)) throw new InputError('annotations', `'${key}' is not a valid annotation key (e.g. org.opencontainers.image.source)`);
  }

  const registryInput = optionalString(get, 'registry');
  let registry = image.host;
  if (registryInput !== undefined) {
    try {
      registry = parseReference(`${registryInput.replace(/^https?:\/\//, '').replace(/\/+$/, '')}/x`).host;
    } catch (error) {
      throw new InputError('registry', (error as Error).message);
    }
  }
  const username = optionalString(get, 'username');
  const password = get('password');
  if ((username === undefined) !== (password === '')) {
    throw new InputError(username === undefined ? 'username' : 'password', 'username and password are given together or not at all');
  }

  const sign = oneOf(get, 'sign', SIGN_MODES, 'none');
  const cosignKey = get('cosign-key').trim() || undefined;
  if (sign === 'cosign-key' && !cosignKey) throw new InputError('cosign-key', "must hold the private key's PEM contents when sign is cosign-key");
  if (sign !== 'cosign-key' && cosignKey) throw new InputError('cosign-key', `is only used with sign: cosign-key (sign is ${sign})`);
  if (cosignKey && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(cosignKey)) throw new InputError('cosign-key', 'is not a PEM private key (cosign generate-key-pair writes one)');

  const attest = boolean(get, 'attest', false);
  const evidence = boolean(get, 'evidence', true);
  const report = (name: string): string | undefined => {
    const path = optionalString(get, name);
    if (path === undefined) return undefined;
    if (!evidence || (sign === 'none' && !attest)) {
      throw new InputError(name, `is attested only with evidence: true and sign or attest on (sign is ${sign}, attest is ${attest}, evidence is ${evidence})`);
    }
    return isAbsolute(path) ? path : resolve(context.workspace, path);
  };
  const reproducibilityReport = report('reproducibility-report');
  const smokeTestReport = report('smoke-test-report');

  return {
    source,
    image,
    tags: [...new Set(tags)],
    annotations,
    ociAnnotations: boolean(get, 'oci-annotations', false),
    registry,
    credentials: username !== undefined ? { username, password } : undefined,
    sign,
    cosignKey,
    cosignPassword: get('cosign-password') || undefined,
    transparencyLog: boolean(get, 'transparency-log', true),
    attest,
    githubToken: get('github-token').trim(),
    evidence,
    reproducibilityReport,
    smokeTestReport,
  };
}

// A prefix is the start of a tag (not '.' or '-'); a suffix may start with either ('-gfx942').
const TAG_PREFIX = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const TAG_SUFFIX = /^[A-Za-z0-9_.-]+$/;

function parseTagFlavor(get: InputSource): TagFlavor {
  const prefix = optionalString(get, 'tag-prefix') ?? '';
  const suffix = optionalString(get, 'tag-suffix') ?? '';
  if (prefix && !TAG_PREFIX.test(prefix)) throw new InputError('tag-prefix', `'${prefix}' cannot start a tag (letters, digits, '_', '.', '-'; not starting with '.' or '-')`);
  if (suffix && !TAG_SUFFIX.test(suffix)) throw new InputError('tag-suffix', `'${suffix}' cannot end a tag (letters, digits, '_', '.', '-')`);
  const shaLength = nonNegativeInteger(get, 'tag-sha-length') ?? 7;
  // git abbreviates to at least 4 hex digits; a SHA-256 commit id has 64.
  if (shaLength < 4 || shaLength > 64) throw new InputError('tag-sha-length', `must be 4 to 64 (the sha-<short> tag's hex digits; default 7), got ${shaLength}`);
  return { prefix, suffix, shaLength };
}
