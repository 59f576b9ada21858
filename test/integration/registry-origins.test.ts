// Where publish's registry credentials go, run from dist/ as the runner runs it, against private
// docker-registry instances on 127.0.0.1 with hostile origins around them (test/support/
// hostile-origin.ts): an upload Location naming another origin, that origin's own challenge, a
// Location that drops from https to http, and a blob GET the registry sends to a CDN, as GHCR,
// Docker Hub and ECR do. Docker's client is the model: credentials only to the origin whose
// challenge it recorded (distribution internal/client/auth/session.go, endpointAuthorizer).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStepWithPost, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startOrigin, type Origin } from '../support/hostile-origin.js';
import { makeCertificates, startTestRegistry, type TestRegistry } from '../support/registry.js';
import { requireTools } from '../support/tools.js';

const root = mkdtempSync(join(tmpdir(), 'h-registry-origins-'));
let jobs = 0;
const USER = { name: 'releaser', password: 'pw-Kx3-origins-secret' };
const BASIC = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`;
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const job = (env: Record<string, string> = {}): RunnerJob => newRunnerJob(join(root, `runner-${++jobs}`), env);
const started: Array<{ kill?: () => Promise<void>; close?: () => Promise<void> }> = [];

/** A one-layer OCI layout written here (no engine needed): its manifest digest and layer. */
function layout(name: string): { dir: string; digest: string; layer: { digest: string; bytes: Buffer } } {
  const dir = join(root, name);
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Buffer) => {
    writeFileSync(join(blobs, sha256(bytes).slice(7)), bytes);
    return sha256(bytes);
  };
  const layer = randomBytes(48 << 10);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, config: {} }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: put(layer), size: layer.length }],
  }));
  const digest = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifest.length }] }));
  return { dir, digest, layer: { digest: sha256(layer), bytes: layer } };
}

async function publish(j: RunnerJob, inputs: Record<string, string>): Promise<StepResult> {
  const run = await runStepWithPost('publish', j, { inputs });
  assert.equal(run.post.exitCode, 0);
  const stageDir = join(j.temp, 'vllm-rocm-action', 'publish');
  assert.deepEqual(existsSync(stageDir) ? readdirSync(stageDir) : [], [], 'publish left files under RUNNER_TEMP');
  assert.deepEqual(run.main.leakedSecrets, []);
  return run.main;
}

function failed(result: StepResult, message: RegExp): void {
  assert.equal(result.exitCode, 1, `expected exit 1:\n${result.stdout.slice(-3000)}`);
  assert.ok(result.errors.some((e) => message.test(e)), `no error matching ${message}: ${JSON.stringify(result.errors)}`);
}

function succeeded(result: StepResult): void {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
}

/** Every Authorization header an origin received (none is the answer these tests want). */
const credentialsAt = (origin: Origin) => origin.requests.flatMap((r) => (r.authorization ? [`${r.method} ${r.path.replace(/\?.*$/, '')}: ${r.authorization.split(' ')[0]}`] : []));

/** The registry's upload Location moved to another origin (the path and query kept). */
const uploadTo = (other: () => Origin) => (req: { method?: string; url?: string }, status: number, headers: Record<string, unknown>) => {
  if (req.method === 'POST' && status === 202 && typeof headers.location === 'string') {
    const original = new URL(headers.location, 'http://x');
    headers.location = `${other().origin}${original.pathname}${original.search}`;
  }
};

let registry: TestRegistry;
let image: ReturnType<typeof layout>;

before(async () => {
  requireTools('docker-registry', 'openssl');
  registry = await startTestRegistry({ user: USER });
  started.push(registry);
  image = layout('image');
});

after(async () => {
  for (const s of started.reverse()) await (s.kill ?? s.close)?.();
});

describe('upload Locations and challenges from another origin', () => {
  test('an upload Location on another origin gets no credentials; its 401 is not followed; nothing tagged', async () => {
    // The foreign origin forwards to the same registry: had the client sent the password, the upload would even have worked.
    const foreign = await startOrigin({ address: '127.0.0.2', backend: `http://${registry.host}` });
    const front = await startOrigin({ backend: `http://${registry.host}`, rewrite: uploadTo(() => foreign) });
    started.push(front, foreign);
    const main = await publish(job(), { source: image.dir, image: `${front.host}/acme/foreign-upload`, tags: 'v1', username: USER.name, password: USER.password });
    assert.ok(foreign.requests.some((r) => r.method === 'PATCH'), 'the client never reached the foreign Location');
    assert.deepEqual(credentialsAt(foreign), []);
    failed(main, new RegExp(`registry ${front.host}: PATCH ${foreign.origin}/v2/acme/foreign-upload/blobs/uploads/\\S+ was answered 401 by ${foreign.origin}, which is not the registry \\(${front.origin}\\): its challenge is not followed`));
    assert.ok(credentialsAt(front).length > 0, 'the registry itself got the credentials');
    assert.deepEqual(await registry.tags('acme/foreign-upload'), []);
  });

  test('another origin\'s Bearer challenge names its own realm: the token service there gets nothing', async () => {
    const realm = await startOrigin({ address: '127.0.0.2', answer: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"token":"stolen"}' }) });
    const foreign = await startOrigin({
      address: '127.0.0.2',
      answer: () => ({ status: 401, headers: { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="evil"`, 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNAUTHORIZED"}]}' }),
    });
    const front = await startOrigin({ backend: `http://${registry.host}`, rewrite: uploadTo(() => foreign) });
    started.push(front, foreign, realm);
    const main = await publish(job(), { source: image.dir, image: `${front.host}/acme/foreign-challenge`, tags: 'v1', username: USER.name, password: USER.password });
    assert.deepEqual(realm.requests, [], 'the foreign realm was asked for a token');
    failed(main, /was answered 401 by http:\/\/127\.0\.0\.2:\d+, which is not the registry/);
    assert.deepEqual(credentialsAt(foreign), []);
    assert.deepEqual(await registry.tags('acme/foreign-challenge'), []);
  });

  test('an https registry whose upload Location drops to plain http (loopback even): refused before anything is sent there', async () => {
    const dir = mkdtempSync(join(root, 'tls-'));
    const certs = makeCertificates(dir);
    const plainHttp = await startOrigin({ backend: `http://${registry.host}` });
    const front = await startOrigin({ tls: certs, backend: `http://${registry.host}`, rewrite: uploadTo(() => plainHttp) });
    started.push(front, plainHttp);
    const main = await publish(job({ NODE_EXTRA_CA_CERTS: certs.ca }), { source: image.dir, image: `${front.host}/acme/downgrade`, tags: 'v1', username: USER.name, password: USER.password });
    assert.deepEqual(plainHttp.requests, [], 'a request went to the plain-http Location');
    failed(main, new RegExp(`registry ${front.host}: PATCH ${plainHttp.origin}/v2/acme/downgrade/blobs/uploads/\\S+ leads from https to plain http \\(${plainHttp.origin}\\): refusing the downgrade`));
    assert.ok(credentialsAt(front).length > 0, 'the https registry itself got the credentials');
    assert.deepEqual(await registry.tags('acme/downgrade'), []);
  });

  test('an https registry whose own challenge names a plain-http realm (loopback even): the password is not sent there', async () => {
    const dir = mkdtempSync(join(root, 'tls-realm-'));
    const certs = makeCertificates(dir);
    const realm = await startOrigin({ answer: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"token":"t"}' }) });
    const front = await startOrigin({
      tls: certs,
      answer: (req) => (req.headers.authorization === 'Bearer t' ? { status: 200, body: '{}' } : { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="reg"` } }),
    });
    started.push(front, realm);
    const main = await publish(job({ NODE_EXTRA_CA_CERTS: certs.ca }), { source: image.dir, image: `${front.host}/acme/realm-downgrade`, tags: 'v1', username: USER.name, password: USER.password });
    assert.deepEqual(realm.requests, [], 'the plain-http realm was asked for a token');
    failed(main, new RegExp(`registry ${front.host}: the token realm ${realm.origin} leads from https to plain http`));
  });
});

describe('blob GETs redirected to a CDN, as GHCR, Docker Hub and ECR answer', () => {
  let target: TestRegistry;
  before(async () => {
    target = await startTestRegistry();
    started.push(target);
    // The source image, pushed straight to the (password-protected) source registry.
    succeeded(await publish(job(), { source: image.dir, image: `${registry.host}/acme/cdn-source`, tags: 'candidate', username: USER.name, password: USER.password }));
  });

  /** The CDN serves blobs with the signed query the registry put in its Location, never with credentials. */
  async function cdn(serve: (digest: string, bytes: Buffer) => Buffer | undefined): Promise<Origin> {
    return startOrigin({
      address: '127.0.0.2',
      answer: async (req) => {
        const url = new URL(req.url!, 'http://cdn');
        const digest = /^\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)?.[1];
        if (!digest || url.searchParams.get('sig') !== 'signed') return { status: 403, body: 'bad signature' };
        const blob = await registry.fetch(`/v2/acme/cdn-source/blobs/${digest}`);
        const bytes = serve(digest, Buffer.from(await blob.arrayBuffer()));
        return bytes ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes } : { status: 404 };
      },
    });
  }

  /** The source registry's front: every blob GET is answered 307 to the CDN (the manifest is served itself). */
  async function sourceFront(to: () => Origin, status = 307): Promise<Origin> {
    return startOrigin({
      backend: `http://${registry.host}`,
      answer: (req) => {
        const digest = req.method === 'GET' && /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url!)?.[1];
        if (!digest || req.headers.authorization !== BASIC) return undefined;
        return { status, headers: { location: `${to().origin}/blobs/${digest}?sig=signed` } };
      },
    });
  }

  test('307 to a CDN on another origin: followed without Authorization, digests checked, promoted', async () => {
    const edge = await cdn((_digest, bytes) => bytes);
    const front = await sourceFront(() => edge);
    started.push(front, edge);
    const main = await publish(job(), {
      source: `docker://${front.host}/acme/cdn-source@${image.digest}`,
      image: `${target.host}/acme/cdn-promoted`,
      tags: 'release',
      registry: front.host,
      username: USER.name,
      password: USER.password,
    });
    succeeded(main);
    assert.equal(main.outputs.digest, image.digest);
    assert.equal(edge.requests.filter((r) => r.method === 'GET').length, 2, 'the config and the layer came from the CDN');
    assert.deepEqual(credentialsAt(edge), []);
    assert.deepEqual(await target.tags('acme/cdn-promoted'), ['release']);
  });

  test('a CDN that serves other bytes for the layer: the digest check refuses them, nothing tagged', async () => {
    const edge = await cdn((digest, bytes) => (digest === image.layer.digest ? Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([bytes[bytes.length - 1]! ^ 1])]) : bytes));
    const front = await sourceFront(() => edge, 302);
    started.push(front, edge);
    const main = await publish(job(), { source: `docker://${front.host}/acme/cdn-source@${image.digest}`, image: `${target.host}/acme/cdn-tampered`, tags: 'release', registry: front.host, username: USER.name, password: USER.password });
    failed(main, new RegExp(`blob ${image.layer.digest} downloaded as ${image.layer.bytes.length} bytes with digest sha256:(?!${image.layer.digest.slice(7)})`));
    assert.deepEqual(credentialsAt(edge), []);
    assert.deepEqual(await target.tags('acme/cdn-tampered'), []);
  });

  test('a CDN that redirects to itself forever: stopped after 10 hops', async () => {
    const loop: Origin = await startOrigin({ address: '127.0.0.2', answer: (req) => ({ status: 307, headers: { location: `${loop.origin}${req.url}` } }) });
    const front = await sourceFront(() => loop);
    started.push(front, loop);
    const main = await publish(job(), { source: `docker://${front.host}/acme/cdn-source@${image.digest}`, image: `${target.host}/acme/cdn-loop`, tags: 'release', registry: front.host, username: USER.name, password: USER.password });
    failed(main, /was redirected more than 10 times/);
    assert.equal(loop.requests.length, 10);
    assert.deepEqual(credentialsAt(loop), []);
  });
});

describe('tag-from-ref', () => {
  test('a release ref whose tag is longer than 128 characters: refused naming the input, before signing or pushing', async () => {
    const ref = `refs/tags/v1.2.3-rc.${'7'.repeat(120)}`;
    const main = await publish(job({ GITHUB_REF: ref }), {
      source: image.dir,
      image: `${registry.host}/acme/long-ref`,
      'tag-from-ref': 'true',
      sign: 'cosign-key',
      'cosign-key': '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nnot-used\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----',
      username: USER.name,
      password: USER.password,
    });
    failed(main, new RegExp(`Input 'tag-from-ref'.*${ref}.*is not a valid tag`));
    assert.doesNotMatch(main.stdout, /Reading the source image|Pushing to/);
    const { json } = await registry.get('/v2/_catalog');
    assert.ok(!((json as { repositories?: string[] }).repositories ?? []).includes('acme/long-ref'), 'the repository was created');
  });
});
