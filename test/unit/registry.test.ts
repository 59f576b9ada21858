// The registry engine's pure parts: references, auth challenges, backoff, tags from refs,
// annotations, publish's inputs; and the client's auth/retry logic against a scripted HTTP server.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopback, isValidTag, parseReference, parseRepository, ReferenceError, sameRegistry } from '../../src/registry/reference.js';
import { backoffDelay, parseChallenge, RegistryAuthError, RegistryClient, RegistryError } from '../../src/registry/client.js';
import { annotate, parseSource, SourceError, topManifest, type SourceImage } from '../../src/registry/source.js';
import { tagsFromRef } from '../../src/registry/ref-tags.js';
import { parsePublishInputs } from '../../src/publish/inputs.js';
import { InputError } from '../../src/action/inputs.js';
import { cosignSignArgs } from '../../src/registry/cosign.js';
import { sha256Digest } from '../../src/oci/docker-archive.js';
import { stageArchiveFile, stagedBlob } from '../../src/registry/staging.js';
import { fixture } from '../support/fixtures.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const D = `sha256:${'a'.repeat(64)}`;

describe('references', () => {
  test('host, path, tag and digest as Docker reads them', () => {
    assert.deepEqual(parseReference('ghcr.io/acme/vllm-rocm:1.2'), { host: 'ghcr.io', path: 'acme/vllm-rocm', tag: '1.2', digest: undefined });
    assert.deepEqual(parseReference(`127.0.0.1:5000/x/y@${D}`), { host: '127.0.0.1:5000', path: 'x/y', tag: undefined, digest: D });
    assert.deepEqual(parseReference('localhost/a'), { host: 'localhost', path: 'a', tag: undefined, digest: undefined });
    assert.deepEqual(parseReference('ubuntu'), { host: 'docker.io', path: 'library/ubuntu', tag: undefined, digest: undefined });
    assert.deepEqual(parseReference('acme/app:v1'), { host: 'docker.io', path: 'acme/app', tag: 'v1', digest: undefined });
  });
  test('bad references are errors that say what is wrong', () => {
    assert.throws(() => parseReference('ghcr.io/Acme/app'), /'Acme' is not a valid repository name component/);
    assert.throws(() => parseReference('ghcr.io/acme/app:-x'), /'-x' is not a valid tag/);
    assert.throws(() => parseReference('ghcr.io/acme/app@sha256:abc'), /digest must be sha256/);
    assert.throws(() => parseReference(''), ReferenceError);
    assert.throws(() => parseReference('ghcr.io//x'), ReferenceError);
    assert.throws(() => parseRepository('ghcr.io/acme/app:1'), /without ':tag'/);
  });
  test('tags: 128 characters at most, no leading . or -', () => {
    assert.ok(isValidTag('1.2.3-rc.1'));
    assert.ok(isValidTag('a'.repeat(128)));
    assert.ok(!isValidTag('a'.repeat(129)));
    assert.ok(!isValidTag('.x'));
    assert.ok(!isValidTag('a/b'));
  });
  test('loopback registries only may use plain HTTP', () => {
    for (const h of ['localhost:5000', '127.0.0.1:5000', '127.9.8.7', '[::1]:5000']) assert.ok(isLoopback(h), h);
    for (const h of ['ghcr.io', '10.0.0.1:5000', '127.0.0.1.nip.io', 'localhost.example.com', '128.0.0.1']) assert.ok(!isLoopback(h), h);
  });
  test('Docker Hub aliases are one registry', () => {
    assert.ok(sameRegistry('docker.io', 'index.docker.io'));
    assert.ok(!sameRegistry('ghcr.io', 'docker.io'));
  });
});

describe('sources', () => {
  test('engine:, docker://…@digest and paths', () => {
    assert.deepEqual(parseSource('engine:vllm:dev'), { kind: 'engine', ref: 'vllm:dev' });
    assert.deepEqual(parseSource(`docker://127.0.0.1:5000/stage/vllm@${D}`), { kind: 'registry', ref: `127.0.0.1:5000/stage/vllm@${D}`, repository: { host: '127.0.0.1:5000', path: 'stage/vllm' }, digest: D });
    assert.deepEqual(parseSource('out/image.tar'), { kind: 'path', path: 'out/image.tar' });
  });
  test('a registry source must be pinned by digest; an engine ref cannot be an option', () => {
    assert.throws(() => parseSource('docker://ghcr.io/acme/app:latest'), /pinned by digest/);
    assert.throws(() => parseSource('engine:--help'), SourceError);
    assert.throws(() => parseSource('engine:'), SourceError);
  });
  test('annotations make a new compact manifest and keep the others', () => {
    const bytes = Buffer.from('{\n  "schemaVersion": 2, "config": {}, "layers": [], "annotations": {"a": "1"}\n}');
    const image: SourceImage = { kind: 'oci-archive', label: 'x', manifests: [{ digest: sha256Digest(bytes), mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes }], blobs: [] };
    assert.equal(annotate(image, []), image, 'no annotations: the exact bytes, the same digest');
    const top = topManifest(annotate(image, [['org.opencontainers.image.source', 'https://x']]));
    assert.equal(top.bytes.toString(), '{"schemaVersion":2,"config":{},"layers":[],"annotations":{"a":"1","org.opencontainers.image.source":"https://x"}}');
    assert.equal(top.digest, sha256Digest(top.bytes));
  });
});

describe('staging an archive', () => {
  test('every member lands under the digest of its own bytes', async () => {
    const staged = await stageArchiveFile(fixture('oci-tiny.tar'), join(mkdtempSync(join(tmpdir(), 'h-publish-stage-')), 'blobs'));
    assert.ok(staged.members.has('index.json'));
    const blobs = [...staged.members.entries()].filter(([name]) => name.startsWith('blobs/sha256/'));
    assert.ok(blobs.length >= 3);
    for (const [name, member] of blobs) {
      assert.equal(member.digest, `sha256:${name.slice('blobs/sha256/'.length)}`);
      assert.equal(sha256Digest(readFileSync(stagedBlob(staged, member.digest)!)), member.digest);
    }
    assert.equal(stagedBlob(staged, `sha256:${'0'.repeat(64)}`), undefined);
  });
  test('a disk that fills up stops the unpacking with a clear error', async () => {
    await assert.rejects(
      stageArchiveFile(fixture('oci-tiny.tar'), join(mkdtempSync(join(tmpdir(), 'h-publish-stage-')), 'blobs'), { minFreeBytes: Number.MAX_SAFE_INTEGER, checkEveryBytes: 1 }),
      /MiB left under .* free space for one copy of the image is needed/,
    );
  });
});

describe('tags from the Git ref', () => {
  const sha = '0123456789abcdef0123456789abcdef01234567';
  test('a release tag: full, minor, major, latest', () => {
    assert.deepEqual(tagsFromRef('refs/tags/v1.2.3', sha), ['1.2.3', '1.2', '1', 'latest']);
    assert.deepEqual(tagsFromRef('refs/tags/2.0.0', sha), ['2.0.0', '2.0', '2', 'latest']);
  });
  test('a prerelease gets only its own tag', () => {
    assert.deepEqual(tagsFromRef('refs/tags/v1.3.0-rc.1', sha), ['1.3.0-rc.1']);
  });
  test('0.x gets no bare major', () => {
    assert.deepEqual(tagsFromRef('refs/tags/v0.9.2', sha), ['0.9.2', '0.9', 'latest']);
  });
  test('a branch, a pull request or a non-version tag: sha-<short>', () => {
    assert.deepEqual(tagsFromRef('refs/heads/main', sha), ['sha-0123456']);
    assert.deepEqual(tagsFromRef('refs/pull/7/merge', sha), ['sha-0123456']);
    assert.deepEqual(tagsFromRef('refs/tags/nightly', sha), ['sha-0123456']);
  });
});

describe('publish inputs', () => {
  const get = (values: Record<string, string>) => (name: string) => values[name] ?? '';
  const ctx = { ref: 'refs/tags/v1.2.3', sha: 'f'.repeat(40), workspace: '/ws' };
  const base = { source: 'out/image.tar', image: '127.0.0.1:5000/acme/vllm' };
  test('defaults; relative source under the workspace; registry from the image', () => {
    const inputs = parsePublishInputs(get(base), ctx);
    assert.deepEqual(inputs.source, { kind: 'path', path: '/ws/out/image.tar' });
    assert.equal(inputs.registry, '127.0.0.1:5000');
    assert.deepEqual(inputs.tags, []);
    assert.equal(inputs.sign, 'none');
    assert.equal(inputs.transparencyLog, true);
  });
  test('tags and tag-from-ref together, deduplicated', () => {
    assert.deepEqual(parsePublishInputs(get({ ...base, tags: 'edge, 1.2\nlatest', 'tag-from-ref': 'true' }), ctx).tags, ['edge', '1.2', 'latest', '1.2.3', '1']);
  });
  const bad: Array<[Record<string, string>, string, RegExp]> = [
    [{ source: 'x' }, 'image', /must be set/],
    [{ ...base, image: 'ghcr.io/Acme/x' }, 'image', /'Acme'/],
    [{ ...base, image: 'ghcr.io/acme/x:1' }, 'image', /without ':tag'/],
    [{ ...base, tags: 'ok, bad tag' }, 'tags', /'bad tag' is not a valid tag/],
    [{ ...base, source: 'docker://ghcr.io/a/b:1' }, 'source', /pinned by digest/],
    [{ ...base, username: 'u' }, 'password', /together/],
    [{ ...base, sign: 'gpg' }, 'sign', /one of none, cosign-key, cosign-keyless/],
    [{ ...base, sign: 'cosign-key' }, 'cosign-key', /PEM/],
    [{ ...base, sign: 'cosign-key', 'cosign-key': 'not a key' }, 'cosign-key', /not a PEM private key/],
    [{ ...base, annotations: 'novalue' }, 'annotations', /KEY=VALUE/],
    [{ ...base, 'tag-from-ref': 'yes' }, 'tag-from-ref', /true or false/],
  ];
  for (const [values, input, message] of bad) {
    test(`bad ${input}: ${message}`, () => {
      assert.throws(() => parsePublishInputs(get(values), ctx), (error: unknown) => error instanceof InputError && error.input === input && message.test(error.message));
    });
  }
});

describe('cosign argv', () => {
  test('the key is a file, the password never in argv; tlog off and HTTP only when asked', () => {
    const args = cosignSignArgs({ ref: `r@${D}`, keyFile: '/t/cosign.key', password: 'hunter2', transparencyLog: false, http: true });
    assert.deepEqual(args, ['sign', '--yes', '--key', '/t/cosign.key', '--tlog-upload=false', '--allow-http-registry', `r@${D}`]);
    assert.deepEqual(cosignSignArgs({ ref: `r@${D}`, transparencyLog: true, http: false }), ['sign', '--yes', `r@${D}`]);
  });
});

describe('auth challenges and backoff', () => {
  test('WWW-Authenticate', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:a/b:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.equal(parseChallenge('Negotiate'), undefined);
    assert.equal(parseChallenge(undefined), undefined);
  });
  test('exponential, capped, Retry-After honoured', () => {
    const p = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.deepEqual([0, 1, 2, 3, 4].map((a) => backoffDelay(p, a)), [100, 200, 400, 800, 1000]);
    assert.equal(backoffDelay(p, 0, '1'), 1000);
    assert.equal(backoffDelay(p, 0, '60'), 1000);
  });
});

// A scripted registry: each test installs a handler; requests are recorded.
describe('client against a scripted server', () => {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const seen: Array<{ method: string; url: string; auth?: string }> = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
    req.resume();
    req.on('end', () => handler(req, res));
  });
  const ready = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
  server.unref(); // a run filtered to other tests skips `after`
  after(() => server.close());
  const fast = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

  test('token auth: the realm is asked with Basic credentials and the scope; the Bearer token is sent', async () => {
    const host = await ready;
    seen.length = 0;
    handler = (req, res) => {
      if (req.url!.startsWith('/token')) {
        const ok = req.headers.authorization === `Basic ${Buffer.from('u:p').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'T1' }));
        return;
      }
      if (req.headers.authorization !== 'Bearer T1') {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="reg"` }).end();
        return;
      }
      res.writeHead(200).end('{}');
    };
    const client = new RegistryClient(host, { credentials: { username: 'u', password: 'p' }, retry: fast });
    await client.ping(['repository:a/b:pull,push']);
    const token = seen.find((s) => s.url.startsWith('/token'))!;
    assert.equal(new URL(token.url, 'http://x').searchParams.get('scope'), 'repository:a/b:pull,push');
    assert.equal(new URL(token.url, 'http://x').searchParams.get('service'), 'reg');
    assert.equal(seen.at(-1)!.auth, 'Bearer T1');
    assert.equal(await client.scheme(), 'http', 'a loopback registry without TLS is spoken to over HTTP');
  });

  test('refused credentials: an error naming the registry and the user', async () => {
    const host = await ready;
    handler = (_req, res) => void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
    const client = new RegistryClient(host, { credentials: { username: 'bob', password: 'wrong' }, retry: fast });
    await assert.rejects(client.ping([]), (e: unknown) => e instanceof RegistryAuthError && e.message.includes(host) && e.message.includes('credentials of bob were refused') && !e.message.includes('wrong'));
  });

  test('503 then 200: retried; a registry that stays at 500 is an error naming it', async () => {
    const host = await ready;
    let calls = 0;
    handler = (_req, res) => void res.writeHead(++calls < 3 ? 503 : 200).end('{}');
    const retries: string[] = [];
    await new RegistryClient(host, { retry: fast, onRetry: (m) => retries.push(m) }).ping([]);
    assert.equal(retries.length, 2);
    handler = (_req, res) => void res.writeHead(500).end('{"errors":[{"code":"UNKNOWN","message":"disk full"}]}');
    await assert.rejects(new RegistryClient(host, { retry: fast }).ping([]), (e: unknown) => e instanceof RegistryError && e.message.includes(host) && e.message.includes('disk full'));
  });

  test('nothing listening: retried, then an error naming the registry', async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
    await new Promise((resolve) => probe.close(resolve));
    const retries: string[] = [];
    await assert.rejects(
      new RegistryClient(`127.0.0.1:${port}`, { retry: fast, onRetry: (m) => retries.push(m) }).ping([]),
      (e: unknown) => e instanceof RegistryError && e.message.includes(`127.0.0.1:${port}`) && /after 3 attempt/.test(e.message),
    );
    assert.equal(retries.length, 2);
  });
});
