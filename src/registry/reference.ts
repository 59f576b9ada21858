// Image references as the distribution spec and Docker spell them: [host[:port]/]path[:tag][@digest].
// A first component with a '.', a ':' or equal to 'localhost' is the registry host; otherwise Docker Hub.

export class ReferenceError extends Error {}

export interface Repository {
  /** host[:port] as written (docker.io for Docker Hub). */
  host: string;
  /** The repository path inside the registry (library/<name> for official Docker Hub images). */
  path: string;
}

export interface Reference extends Repository {
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const DOCKER_HUB = 'docker.io';

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function parseReference(text: string): Reference {
  const ref = text.trim();
  if (ref === '') throw new ReferenceError('the reference is empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError(`'${ref}': the digest must be sha256:<64 lowercase hex digits>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw new ReferenceError(`'${ref}': '${tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128, not starting with '.' or '-')`);
  }
  const parts = rest.split('/');
  let host = DOCKER_HUB;
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    host = parts.shift()!;
    if (!HOST.test(host)) throw new ReferenceError(`'${ref}': '${host}' is not a valid registry host`);
  }
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new ReferenceError(`'${ref}': '${part}' is not a valid repository name component (lowercase letters and digits, separated by '.', '_', '__' or '-')`);
    }
  }
  if (host === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (path.length > 255) throw new ReferenceError(`'${ref}': the repository name is longer than 255 characters`);
  return { host: host.toLowerCase(), path, tag, digest };
}

/** An image name without tag or digest (the `image` input). */
export function parseRepository(text: string): Repository {
  const ref = parseReference(text);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new ReferenceError(`'${text.trim()}' must name a repository only, without ':tag' or '@digest'`);
  }
  return { host: ref.host, path: ref.path };
}

export function repositoryName(repo: Repository): string {
  return `${repo.host}/${repo.path}`;
}

/** The host the registry API answers on (Docker Hub's API is not on docker.io itself). */
export function apiHost(host: string): string {
  return host === DOCKER_HUB || host === 'index.docker.io' ? 'registry-1.docker.io' : host;
}

/** localhost, 127.0.0.0/8 and ::1 may speak plain HTTP, as Docker allows; every other registry needs TLS. */
export function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(name);
}

export function sameRegistry(a: string, b: string): boolean {
  return apiHost(a.toLowerCase()) === apiHost(b.toLowerCase());
}
