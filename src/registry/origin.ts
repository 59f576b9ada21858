// Where a registry client may send a request, and with which credentials. Docker's client binds
// credentials to the origin whose 401 it recorded: distribution's challenge manager keys challenges
// by scheme://host:port/v2/ (distribution/distribution internal/client/auth/challenge/addr.go,
// canonicalAddr; authchallenge.go, simpleManager), docker/cli records them from the /v2/ ping of the
// registry's own endpoint (internal/registry/auth.go, PingV2Registry), and its authorizer adds
// Authorization only to requests whose origin has a recorded challenge (internal/client/auth/
// session.go, endpointAuthorizer.ModifyRequest). A Location or redirect to another origin therefore
// goes without credentials, and that origin's 401 is never taken as the registry's challenge.
import { isLoopback } from './reference.js';

export class OriginError extends Error {}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** scheme://host:port, lower-cased, with the default port spelled out (distribution's canonicalAddr). */
export function canonicalOrigin(url: URL): string {
  return `${url.protocol}//${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`;
}

export function sameOrigin(a: URL, b: URL): boolean {
  return canonicalOrigin(a) === canonicalOrigin(b);
}

/**
 * Throws unless a request to `target` is allowed for a registry at `base`: HTTPS anywhere; plain
 * HTTP only to a loopback host, and only when the registry itself speaks plain HTTP (so an https
 * registry can never hand the client down to http, loopback included). `what` names the request.
 */
export function checkTransport(target: URL, base: URL, what: string): void {
  // Userinfo would become an Authorization header of the registry's choosing (node's http, like Go's, sends it).
  if (target.username || target.password) throw new OriginError(`${what} carries a user name or password in its URL: refusing`);
  if (target.protocol === 'https:') return;
  if (target.protocol !== 'http:') throw new OriginError(`${what} names ${target.protocol}// (only https: and, for a loopback registry, http: are followed)`);
  if (base.protocol === 'https:') throw new OriginError(`${what} leads from https to plain http (${canonicalOrigin(target)}): refusing the downgrade`);
  if (!isLoopback(target.host)) throw new OriginError(`${what} leads to plain http on ${canonicalOrigin(target)}, which is not a loopback host: refusing`);
}

/** A Location (or realm) resolved against the URL of the response that named it, as RFC 9110 §10.2.2 says. */
export function resolveLocation(location: string, from: URL): URL {
  try {
    return new URL(location, from);
  } catch {
    throw new OriginError(`${canonicalOrigin(from)} answered with a Location that is not a URL`);
  }
}

/** Redirect statuses a blob GET follows (GHCR, Docker Hub and ECR answer 307 to a CDN; S3-backed registries 302). */
export const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** docker's distribution client stops after 10 redirects (docker/cli vendor/github.com/docker/distribution/registry/client/repository.go, checkHTTPRedirect). */
export const MAX_REDIRECTS = 10;
