// A small client of the OCI distribution API: token (Bearer) and Basic auth, retries with backoff
// on 429, 5xx and dropped connections, TLS everywhere except loopback registries that do not
// speak it. Request bodies are factories so that a retry or an auth round trip can send them again.
// Credentials and tokens go only to the registry's own origin and to the token realm its own 401
// named; GET and HEAD follow redirects, without Authorization on any hop to another origin (see
// origin.ts for the upstream rules this follows).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { canonicalOrigin, checkTransport, MAX_REDIRECTS, OriginError, REDIRECT_STATUSES, resolveLocation, sameOrigin } from './origin.js';
import { apiHost, isLoopback } from './reference.js';

export class RegistryError extends Error {}

/** The registry refused the credentials (401/403). */
export class RegistryAuthError extends RegistryError {}

/** The registry stayed unreachable, or kept answering 429/5xx, through every retry. */
export class RegistryUnavailableError extends RegistryError {}

/** A request the client refuses: a downgrade to plain HTTP, a foreign origin's challenge, too many redirects. */
export class RegistryOriginError extends RegistryError {}

export interface Credentials {
  username: string;
  password: string;
  /**
   * An OAuth2 refresh token (a Docker config's `identitytoken`): exchanged at the token realm with
   * grant_type=refresh_token instead of sending username and password.
   */
  identityToken?: string;
}

/** client_id for OAuth2 token requests (distribution's default is registry-client; the spec asks only for a meaningful name). */
const OAUTH_CLIENT_ID = 'vllm-rocm-action';

export interface RetryPolicy {
  attempts: number;
  /** First delay; doubled after each failure, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 1000, maxDelayMs: 15000 };

export type Body = Buffer | (() => Readable);

export interface RequestOptions {
  method: string;
  /** A path under the registry (/v2/...) or an absolute URL (an upload Location). */
  url: string;
  headers?: Record<string, string>;
  body?: Body;
  bodyLength?: number;
  /** Repositories and actions the request needs, for token auth (repository:<path>:<actions>). */
  scopes: string[];
  /** Statuses that are an answer (others are errors, 429/5xx retried). */
  expect: number[];
  /** Attempts for this request (default: the client's policy); 1 for a body that must not be sent twice. */
  attempts?: number;
  /** Streams a 200 answer's body here instead of into memory (a blob download). */
  consume?: (body: IncomingMessage) => Promise<void>;
  /** Follow 3xx redirects (default: for GET and HEAD, as docker's http.Client does). */
  follow?: boolean;
  /** The origin the auth headers are meant for (default: the registry's; the token realm for a token request). */
  credentialOrigin?: URL;
}

export interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The URL that gave this answer (after any redirects): Locations resolve against it. */
  url: URL;
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let m = re.exec(match[2]!); m; m = re.exec(match[2]!)) params[m[1]!.toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme, params };
}

const RETRIABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/** A connection that dropped or could not be made: worth another try. */
export function isDroppedConnection(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException;
  return RETRIABLE_CODES.has(e?.code ?? '') || /socket hang up|aborted/i.test(e?.message ?? '');
}

/** The peer answered a TLS hello with something else: a plain-HTTP server. Certificate errors are not this. */
function isNotTls(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException;
  return e?.code === 'EPROTO' || e?.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(e?.message ?? '');
}

export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfter?: string): number {
  const seconds = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.min(policy.maxDelayMs, seconds ?? exponential);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ClientOptions {
  credentials?: Credentials;
  retry?: RetryPolicy;
  /** Called before each retry (for the log). */
  onRetry?: (message: string) => void;
  /** Request timeout without any socket activity. */
  idleTimeoutMs?: number;
  /** Why no credentials were given (where they were looked for, how to log in): said when the registry asks for them. */
  missingCredentials?: string;
}

export class RegistryClient {
  readonly host: string;
  private base: URL | undefined;
  private readonly tokens = new Map<string, string>();
  private basic = false;
  private challenge: Challenge | undefined;

  constructor(
    host: string,
    private readonly options: ClientOptions = {},
  ) {
    this.host = apiHost(host);
  }

  /** https://host, or http://host for a loopback registry that does not speak TLS. */
  async baseUrl(): Promise<URL> {
    if (this.base) return this.base;
    const tls = new URL(`https://${this.host}/`);
    if (!isLoopback(this.host)) return (this.base = tls);
    try {
      await this.raw(new URL('/v2/', tls), { method: 'GET', url: '/v2/', scopes: [], expect: [] }, {});
      return (this.base = tls);
    } catch (error) {
      if (!isNotTls(error)) throw error;
      return (this.base = new URL(`http://${this.host}/`));
    }
  }

  async scheme(): Promise<string> {
    return (await this.baseUrl()).protocol.replace(':', '');
  }

  /** One request with auth and retries. */
  async send(opts: RequestOptions): Promise<Response> {
    const policy = { ...(this.options.retry ?? DEFAULT_RETRY), ...(opts.attempts ? { attempts: opts.attempts } : {}) };
    for (let authRounds = 0; ; authRounds++) {
      const response = await this.retrying(opts, policy, () => this.authHeader(opts.scopes));
      const base = await this.baseUrl();
      if (response.status === 401 && !sameOrigin(response.url, base)) {
        throw new RegistryOriginError(
          `registry ${this.host}: ${opts.method} ${this.describe(opts.url)} was answered 401 by ${canonicalOrigin(response.url)}, which is not the registry (${canonicalOrigin(base)}): its challenge is not followed and no credentials go there`,
        );
      }
      if (response.status === 401 && authRounds < 2 && (await this.authenticate(response, opts.scopes))) continue;
      if (response.status === 401 || response.status === 403) {
        throw new RegistryAuthError(`registry ${this.host}: ${opts.method} ${this.describe(opts.url)} answered ${response.status}: ${this.refusal()}${errorDetail(response)}`);
      }
      if (opts.expect.includes(response.status)) return response;
      const Failure = response.status === 429 || response.status >= 500 ? RegistryUnavailableError : RegistryError;
      throw new Failure(`registry ${this.host}: ${opts.method} ${this.describe(opts.url)} answered ${response.status}${errorDetail(response)}`);
    }
  }

  /** Sends until an answer that is not 429/5xx (or an expected one), with backoff; dropped connections count as failures. */
  private async retrying(opts: RequestOptions, policy: RetryPolicy, auth: () => Promise<Record<string, string>>): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= policy.attempts;
      let response: Response;
      try {
        response = await this.exchange(opts, auth);
      } catch (error) {
        if (error instanceof RegistryError) throw error;
        if (!isDroppedConnection(error) || last) {
          throw new RegistryUnavailableError(`registry ${this.host}: ${opts.method} ${this.describe(opts.url)} failed after ${attempt + 1} attempt(s): ${(error as Error).message}`);
        }
        const delay = backoffDelay(policy, attempt);
        this.options.onRetry?.(`registry ${this.host}: ${(error as Error).message}; retrying ${opts.method} ${this.describe(opts.url)} in ${delay} ms`);
        await sleep(delay);
        continue;
      }
      const busy = response.status === 429 || response.status >= 500;
      if (!busy || last || opts.expect.includes(response.status)) return response;
      const delay = backoffDelay(policy, attempt, header(response, 'retry-after'));
      this.options.onRetry?.(`registry ${this.host} answered ${response.status}; retrying ${opts.method} ${this.describe(opts.url)} in ${delay} ms`);
      await sleep(delay);
    }
  }

  private refusal(): string {
    const c = this.options.credentials;
    if (c?.identityToken) return `the identity token${c.username ? ` of ${c.username}` : ''} was refused`;
    if (c) return `the credentials of ${c.username} were refused`;
    return `no credentials were given${this.options.missingCredentials ? ` (${this.options.missingCredentials})` : ''}`;
  }

  /** Username and password for Basic auth (none for an identity token alone, which only a token realm takes). */
  private basicCredentials(): Credentials | undefined {
    const c = this.options.credentials;
    return c && !(c.identityToken && !c.password) ? c : undefined;
  }

  /** Checks that the registry answers and accepts the credentials for these scopes. */
  async ping(scopes: string[]): Promise<void> {
    await this.send({ method: 'GET', url: '/v2/', scopes, expect: [200] });
  }

  /**
   * One attempt: the request and, for GET and HEAD, its redirects (at most MAX_REDIRECTS). Every
   * URL is checked against the registry's transport first; the auth headers go only to the origin
   * they are for, so a hop to a CDN or a foreign upload Location gets none.
   */
  private async exchange(opts: RequestOptions, auth: () => Promise<Record<string, string>>): Promise<Response> {
    const base = await this.baseUrl();
    const credentialOrigin = opts.credentialOrigin ?? base;
    const follow = opts.follow ?? (opts.method === 'GET' || opts.method === 'HEAD');
    let url = this.guard(() => resolveLocation(opts.url, base));
    for (let hops = 0; ; hops++) {
      this.guard(() => checkTransport(url, base, `${opts.method} ${url.protocol}//${url.host}${url.pathname}`));
      const response = await this.raw(url, opts, sameOrigin(url, credentialOrigin) ? await auth() : {});
      const location = header(response, 'location');
      if (!follow || !REDIRECT_STATUSES.has(response.status) || !location) return response;
      if (hops >= MAX_REDIRECTS) throw new RegistryOriginError(`registry ${this.host}: ${opts.method} ${this.describe(opts.url)} was redirected more than ${MAX_REDIRECTS} times`);
      url = this.guard(() => resolveLocation(location, url));
    }
  }

  private guard<T>(check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (error instanceof OriginError) throw new RegistryOriginError(`registry ${this.host}: ${error.message}`);
      throw error;
    }
  }

  private describe(url: string): string {
    // Upload locations carry opaque state in their query: keep the log to the path.
    return url.replace(/\?.*$/, '');
  }

  private async authHeader(scopes: string[]): Promise<Record<string, string>> {
    const c = this.challenge;
    if (c?.scheme === 'bearer') {
      const token = this.tokens.get(scopeKey(scopes)) ?? (await this.fetchToken(c, scopes));
      return { authorization: `Bearer ${token}` };
    }
    const basic = this.basicCredentials();
    if (this.basic && basic) {
      const { username, password } = basic;
      return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    return {};
  }

  /** Learns the auth scheme from a 401; false when nothing new can be tried. */
  private async authenticate(response: Response, scopes: string[]): Promise<boolean> {
    const challenge = parseChallenge(header(response, 'www-authenticate'));
    if (!challenge) return false;
    if (challenge.scheme === 'basic') {
      if (!this.basicCredentials() || this.basic) return false;
      this.basic = true;
      this.challenge = challenge;
      return true;
    }
    const key = scopeKey(scopes);
    if (this.challenge?.scheme === 'bearer' && this.tokens.has(key)) {
      // A token we already hold was refused: one fresh token, then give up.
      this.tokens.delete(key);
    }
    this.challenge = challenge;
    await this.fetchToken(challenge, scopes);
    return true;
  }

  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<string> {
    const base = await this.baseUrl();
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`registry ${this.host}: its Bearer challenge names no realm`);
    // The realm may be another origin (auth.docker.io, ghcr.io/token): the challenge came from the
    // registry's own origin (send() refuses any other), so the credentials follow it, over TLS
    // unless both the registry and the realm are plain-HTTP loopback (distribution's tokenHandler
    // takes the realm as an absolute URL: internal/client/auth/session.go, fetchToken).
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`registry ${this.host}: its Bearer challenge's realm is not an absolute URL`);
    }
    this.guard(() => checkTransport(url, base, `the token realm ${canonicalOrigin(url)}`));
    if (this.options.credentials?.identityToken) return this.fetchOAuthToken(url, challenge, scopes, this.options.credentials.identityToken);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes.length ? scopes : challenge.params.scope ? [challenge.params.scope] : []) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (this.options.credentials) {
      const { username, password } = this.options.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    const response = await this.retrying({ method: 'GET', url: url.toString(), scopes: [], expect: [200], follow: false, credentialOrigin: url }, this.options.retry ?? DEFAULT_RETRY, async () => headers);
    if (response.status === 401 || response.status === 403) {
      throw new RegistryAuthError(`registry ${this.host}: the token service ${url.origin} answered ${response.status}: ${this.refusal()}`);
    }
    if (response.status !== 200) throw new RegistryError(`registry ${this.host}: the token service ${url.origin} answered ${response.status}${errorDetail(response)}`);
    let token: string | undefined;
    try {
      const parsed = JSON.parse(response.body.toString('utf8')) as { token?: string; access_token?: string };
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (!token) throw new RegistryError(`registry ${this.host}: the token service ${url.origin} returned no token`);
    this.tokens.set(scopeKey(scopes), token);
    return token;
  }

  /**
   * An access token for an identity token (OAuth2 refresh token), as docker does it: POST the realm
   * a form with grant_type=refresh_token, refresh_token, service, scope (space-separated) and
   * client_id; the answer's access_token (distribution internal/client/auth/session.go,
   * fetchTokenWithOAuth; docs/content/spec/auth/oauth.md). No fallback to GET with the token.
   */
  private async fetchOAuthToken(url: URL, challenge: Challenge, scopes: string[], refreshToken: string): Promise<string> {
    const form = new URLSearchParams();
    form.set('scope', (scopes.length ? scopes : challenge.params.scope ? [challenge.params.scope] : []).join(' '));
    form.set('service', challenge.params.service ?? '');
    form.set('client_id', OAUTH_CLIENT_ID);
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', refreshToken);
    const body = Buffer.from(form.toString());
    const response = await this.retrying(
      { method: 'POST', url: url.toString(), scopes: [], expect: [200], follow: false, credentialOrigin: url, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      this.options.retry ?? DEFAULT_RETRY,
      async () => ({}),
    );
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw new RegistryAuthError(`registry ${this.host}: the token service ${url.origin} answered ${response.status} to the identity token: ${this.refusal()}`);
    }
    if (response.status !== 200) throw new RegistryError(`registry ${this.host}: the token service ${url.origin} answered ${response.status} to the identity token${errorDetail(response)}`);
    let token: string | undefined;
    try {
      token = (JSON.parse(response.body.toString('utf8')) as { access_token?: string }).access_token;
    } catch {
      token = undefined;
    }
    if (!token || typeof token !== 'string') throw new RegistryError(`registry ${this.host}: the token service ${url.origin} returned no access_token`);
    this.tokens.set(scopeKey(scopes), token);
    return token;
  }

  /** One HTTP exchange, no retries, no redirects. */
  private async raw(url: URL, opts: RequestOptions, auth: Record<string, string>): Promise<Response> {
    const body = opts.body;
    const headers: Record<string, string> = { 'user-agent': 'vllm-rocm-action', ...opts.headers, ...auth };
    if (body !== undefined) headers['content-length'] = String(Buffer.isBuffer(body) ? body.length : (opts.bodyLength ?? 0));
    else if (opts.method === 'PUT' || opts.method === 'POST' || opts.method === 'PATCH') headers['content-length'] = '0';
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = send(url, { method: opts.method, headers }, (res) => {
        if (opts.consume && res.statusCode === 200) {
          opts.consume(res).then(() => resolve({ status: 200, headers: res.headers, body: Buffer.alloc(0), url }), reject);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // Answers are small JSON documents; a manifest is at most 4 MiB by the spec.
          if (size > 8 << 20) req.destroy(new RegistryError(`registry ${this.host}: ${opts.method} ${this.describe(url.pathname)} answered with more than 8 MiB`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url }));
        res.on('error', reject);
      });
      req.setTimeout(this.options.idleTimeoutMs ?? 120_000, () => req.destroy(Object.assign(new Error('connection idle too long'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        const stream = body();
        stream.on('error', (error) => req.destroy(error));
        stream.pipe(req);
      }
    });
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

export function header(response: Response, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The registry's own error message ({"errors":[{"code","message"}]}), short. */
function errorDetail(response: Response): string {
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    const first = parsed.errors?.[0];
    if (first) return `: ${[first.code, first.message].filter(Boolean).join(' ')}`;
  } catch {
    // not JSON
  }
  const text = response.body.toString('utf8').trim().slice(0, 200);
  return text ? `: ${text}` : '';
}
