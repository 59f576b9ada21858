// Private instances of Debian's docker-registry on 127.0.0.1 (random ports): with htpasswd auth
// (bcrypt), with TLS from a CA the test makes with openssl, stopped and started again on the same
// storage. The shared registry on :5000 is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { requireTools, sh } from './tools.js';

export interface TestRegistry {
  host: string;
  dir: string;
  /** The storage root (repositories and upload sessions). */
  storage: string;
  /** The CA certificate (PEM file) when TLS is on. */
  caFile?: string;
  /** Basic auth header value when htpasswd is on. */
  authHeader?: string;
  start(): Promise<void>;
  /** SIGKILL: no graceful shutdown, connections drop mid-request. */
  kill(): Promise<void>;
  /** GET a registry path with the registry's credentials (Basic, or a token from its token service). */
  fetch(path: string, headers?: Record<string, string>): Promise<Response>;
  /** GET a registry path with the registry's credentials; status and JSON body. */
  get(path: string): Promise<{ status: number; json: unknown }>;
  /** The token service's requests (query strings), when the registry uses token auth. */
  tokenRequests: string[];
  /** The token service's OAuth2 POSTs (their forms), when the registry uses token auth. */
  tokenPosts: URLSearchParams[];
  /** A refresh token the token service issued to the user (a Docker config's identitytoken), when the registry uses token auth. */
  refreshToken?: string;
  /** Tags of a repository ([] when it has none or does not exist). */
  tags(repository: string): Promise<string[]>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A CA and a server certificate for 127.0.0.1 signed by it. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  requireTools('openssl');
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=publish test CA', '-keyout', caKey, '-out', ca]);
  sh('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', csr]);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  sh('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', cert]);
  return { ca, cert, key };
}

/**
 * A token service as Docker Hub and ghcr.io run one: Basic credentials in, a JWT (RS256, x5c
 * header) granting the requested repository scopes out; the registry trusts its certificate. It
 * also takes the OAuth2 POST of distribution's docs/content/spec/auth/oauth.md: a form with
 * grant_type (password, or refresh_token with a refresh token it issued), service, client_id and a
 * space-separated scope, answered {access_token, scope, expires_in[, refresh_token]}; an unknown
 * grant or token is 400 {"error":"invalid_grant"} (RFC 6749 §5.2).
 */
async function startTokenService(dir: string, user: { name: string; password: string }, service: string): Promise<{ realm: string; certFile: string; requests: string[]; posts: URLSearchParams[]; refreshToken: string; server: Server }> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.pem');
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=publish test token issuer', '-keyout', keyFile, '-out', certFile]);
  const key = createPrivateKey(readFileSync(keyFile));
  const x5c = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const requests: string[] = [];
  const posts: URLSearchParams[] = [];
  const refreshToken = `rt-${randomUUID()}`;
  const expected = `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}`;
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url!, 'http://token');
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', (): void => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        posts.push(form);
        const refused = (error: string): void => void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
        if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return refused('invalid_request');
        if (form.get('service') !== service || !form.get('client_id')) return refused('invalid_request');
        const grant = form.get('grant_type');
        const granted = grant === 'refresh_token' ? form.get('refresh_token') === refreshToken : grant === 'password' && form.get('username') === user.name && form.get('password') === user.password;
        if (!granted) return refused(grant === 'refresh_token' || grant === 'password' ? 'invalid_grant' : 'unsupported_grant_type');
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        const answer: Record<string, unknown> = { access_token: issue(scopes), scope: scopes.join(' '), expires_in: 300 };
        if (grant === 'password' && form.get('access_type') === 'offline') answer.refresh_token = refreshToken;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
      return;
    }
    requests.push(url.search);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: issue(url.searchParams.getAll('scope')), expires_in: 300 }));
  });
  const issue = (scopes: string[]): string => {
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      return type === 'repository' && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'publish-test-issuer', sub: user.name, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', x5c: [x5c] })}.${b64(claims)}`;
    return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
  };
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  server.unref();
  return { realm: `http://127.0.0.1:${port}/token`, certFile, requests, posts, refreshToken, server };
}

export async function startTestRegistry(opts: { user?: { name: string; password: string }; tls?: boolean; token?: boolean } = {}): Promise<TestRegistry> {
  requireTools('docker-registry');
  const dir = mkdtempSync(join(tmpdir(), 'h-publish-registry-'));
  const storage = join(dir, 'data');
  mkdirSync(storage);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = ['version: 0.1', 'log:', '  level: info', 'storage:', `  filesystem: { rootdirectory: ${storage} }`, 'http:', `  addr: ${host}`];
  let caFile: string | undefined;
  if (opts.tls) {
    const certs = makeCertificates(dir);
    caFile = certs.ca;
    lines.push('  tls:', `    certificate: ${certs.cert}`, `    key: ${certs.key}`);
  }
  let authHeader: string | undefined;
  let tokenService: Awaited<ReturnType<typeof startTokenService>> | undefined;
  if (opts.token) {
    if (!opts.user) throw new Error('token auth needs a user');
    tokenService = await startTokenService(dir, opts.user, 'publish-test');
    lines.push('auth:', '  token:', `    realm: ${tokenService.realm}`, '    service: publish-test', '    issuer: publish-test-issuer', `    rootcertbundle: ${tokenService.certFile}`);
  } else if (opts.user) {
    writeFileSync(join(dir, 'htpasswd'), `${opts.user.name}:${bcrypt.hashSync(opts.user.password, 5)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: publish-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  if (opts.user) authHeader = `Basic ${Buffer.from(`${opts.user.name}:${opts.user.password}`).toString('base64')}`;
  const config = join(dir, 'config.yml');
  writeFileSync(config, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  const base = `${opts.tls ? 'https' : 'http'}://${host}`;
  const request = async (path: string, headers: Record<string, string> = {}): Promise<Response> => {
    // Node's fetch reads NODE_EXTRA_CA_CERTS only at start-up: curl checks the test CA instead.
    if (!opts.tls) {
      const first = await fetch(`${base}${path}`, { headers: { ...headers, ...(authHeader && !tokenService ? { authorization: authHeader } : {}) } });
      const challenge = first.headers.get('www-authenticate') ?? '';
      if (first.status !== 401 || !tokenService || !challenge.startsWith('Bearer')) return first;
      const scope = /scope="([^"]*)"/.exec(challenge)?.[1] ?? '';
      const tokenUrl = `${tokenService.realm}?service=publish-test&scope=${encodeURIComponent(scope)}`;
      const { token } = (await (await fetch(tokenUrl, { headers: { authorization: authHeader! } })).json()) as { token: string };
      return fetch(`${base}${path}`, { headers: { ...headers, authorization: `Bearer ${token}` } });
    }
    const out = sh('curl', ['-sS', '--cacert', caFile!, ...(authHeader ? ['-H', `authorization: ${authHeader}`] : []), '-w', '\n%{http_code}', `${base}${path}`]);
    const at = out.lastIndexOf('\n');
    return new Response(out.slice(0, at) || null, { status: Number(out.slice(at + 1)) });
  };
  const registry: TestRegistry = {
    host,
    dir,
    storage,
    caFile,
    authHeader,
    tokenRequests: tokenService?.requests ?? [],
    tokenPosts: tokenService?.posts ?? [],
    refreshToken: tokenService?.refreshToken,
    fetch: request,
    async start() {
      const log = openSync(join(dir, 'registry.log'), 'a');
      child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
      closeSync(log);
      for (let i = 0; i < 100; i++) {
        const up = await request('/v2/').then(() => true, () => false);
        if (up) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`docker-registry on ${host} did not start: see ${join(dir, 'registry.log')}`);
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async get(path) {
      const response = await request(path);
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: response.status, json };
    },
    async tags(repository) {
      const { status, json } = await registry.get(`/v2/${repository}/tags/list`);
      if (status === 404) return [];
      if (status !== 200) throw new Error(`tags/list of ${repository}: ${status}`);
      return [...((json as { tags?: string[] | null }).tags ?? [])].sort();
    },
  };
  await registry.start();
  return registry;
}
