// The pure rules of where registry credentials may go (src/registry/origin.ts) and the check of
// tag-from-ref's tags. The client's behaviour against real registries and hostile origins is in
// test/integration/registry-origins.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalOrigin, checkTransport, MAX_REDIRECTS, OriginError, resolveLocation, sameOrigin } from '../../src/registry/origin.js';
import { parsePublishInputs } from '../../src/publish/inputs.js';
import { InputError } from '../../src/action/inputs.js';

const u = (text: string) => new URL(text);

describe('origins', () => {
  test('canonical: scheme, lower-cased host and the default port spelled out (distribution canonicalAddr)', () => {
    assert.equal(canonicalOrigin(u('https://GHCR.io/v2/')), 'https://ghcr.io:443');
    assert.equal(canonicalOrigin(u('http://127.0.0.1:5000/v2/x?y=1')), 'http://127.0.0.1:5000');
    assert.equal(canonicalOrigin(u('http://[::1]/v2/')), 'http://[::1]:80');
  });
  test('same origin needs the same scheme, host and port', () => {
    assert.ok(sameOrigin(u('https://ghcr.io/v2/'), u('https://ghcr.io:443/v2/a/blobs/uploads/1')));
    assert.ok(!sameOrigin(u('https://ghcr.io/v2/'), u('http://ghcr.io/v2/')), 'scheme');
    assert.ok(!sameOrigin(u('https://ghcr.io/v2/'), u('https://ghcr.io:8443/v2/')), 'port');
    assert.ok(!sameOrigin(u('https://ghcr.io/v2/'), u('https://pkg-containers.githubusercontent.com/')), 'host');
    assert.ok(!sameOrigin(u('https://ghcr.io/v2/'), u('https://ghcr.io.evil.example/v2/')), 'a host that only starts the same');
    assert.ok(!sameOrigin(u('http://127.0.0.1:5000/'), u('http://127.0.0.2:5000/')), 'another loopback address');
    assert.ok(!sameOrigin(u('http://127.0.0.1:5000/'), u('http://localhost:5000/')), 'another name for the same address');
  });
  test('a Location resolves against the URL that answered it', () => {
    assert.equal(resolveLocation('/v2/a/blobs/uploads/u1?_state=s', u('https://r.example/v2/a/blobs/uploads/')).toString(), 'https://r.example/v2/a/blobs/uploads/u1?_state=s');
    assert.equal(resolveLocation('u2', u('https://cdn.example/blobs/x/')).toString(), 'https://cdn.example/blobs/x/u2');
    assert.equal(resolveLocation('//other.example/x', u('https://r.example/v2/')).toString(), 'https://other.example/x');
    assert.equal(resolveLocation('http://evil.example/x', u('https://r.example/v2/')).toString(), 'http://evil.example/x');
  });
  test('redirects are bounded as docker bounds them', () => {
    assert.equal(MAX_REDIRECTS, 10);
  });
});

describe('transport', () => {
  const tlsRegistry = u('https://ghcr.io/');
  const loopbackHttp = u('http://127.0.0.1:5000/');
  const allowed: Array<[URL, URL]> = [
    [u('https://ghcr.io/v2/a/blobs/x'), tlsRegistry],
    [u('https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:x'), tlsRegistry],
    [u('https://127.0.0.1:5000/v2/'), loopbackHttp],
    [u('http://127.0.0.1:5000/v2/'), loopbackHttp],
    [u('http://127.0.0.2:9000/cdn/blob'), loopbackHttp],
    [u('http://localhost:9000/token'), loopbackHttp],
    [u('http://[::1]:9000/token'), loopbackHttp],
  ];
  for (const [target, base] of allowed) {
    test(`allowed: ${target.origin} for a registry at ${base.origin}`, () => assert.doesNotThrow(() => checkTransport(target, base, 'the request')));
  }
  const refused: Array<[URL, URL, RegExp]> = [
    [u('http://ghcr.io/v2/a/blobs/uploads/1'), tlsRegistry, /from https to plain http .*refusing the downgrade/],
    [u('http://127.0.0.1:9000/upload'), tlsRegistry, /from https to plain http/],
    [u('http://cdn.example/blob'), loopbackHttp, /plain http on http:\/\/cdn\.example:80, which is not a loopback host/],
    [u('http://10.0.0.7:5000/v2/'), loopbackHttp, /not a loopback host/],
    [u('http://127.0.0.1.evil.example/v2/'), loopbackHttp, /not a loopback host/],
    [u('ftp://127.0.0.1/blob'), loopbackHttp, /ftp:\/\//],
    [u('file:///etc/passwd'), tlsRegistry, /file:\/\//],
    [u('https://mallory:x@cdn.example/blob'), tlsRegistry, /carries a user name or password in its URL/],
  ];
  for (const [target, base, message] of refused) {
    test(`refused: ${target.href} for a registry at ${base.origin}`, () => {
      assert.throws(() => checkTransport(target, base, 'the request'), (e: unknown) => e instanceof OriginError && message.test(e.message));
    });
  }
});

describe('tag-from-ref gives valid tags or fails naming the input', () => {
  const get = (values: Record<string, string>) => (name: string) => values[name] ?? '';
  const inputs = { source: 'out/image.tar', image: '127.0.0.1:5000/acme/vllm', 'tag-from-ref': 'true', sign: 'cosign-key', 'cosign-key': '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n' };
  const sha = 'f'.repeat(40);
  test('a release tag whose prerelease makes the tag longer than 128 characters', () => {
    const ref = `refs/tags/v1.2.3-rc.${'9'.repeat(130)}`;
    assert.throws(
      () => parsePublishInputs(get(inputs), { ref, sha, workspace: '/ws' }),
      (e: unknown) => e instanceof InputError && e.input === 'tag-from-ref' && e.message.includes(ref) && /is not a valid tag .*at most 128 characters/.test(e.message),
    );
  });
  test('a version number too long for a tag', () => {
    const ref = `refs/tags/v${'1'.repeat(127)}.0.0`;
    assert.throws(() => parsePublishInputs(get(inputs), { ref, sha, workspace: '/ws' }), (e: unknown) => e instanceof InputError && e.input === 'tag-from-ref');
  });
  test('the longest version that still makes tags is accepted', () => {
    const ref = `refs/tags/v1.2.3-${'a'.repeat(122)}`;
    assert.deepEqual(parsePublishInputs(get(inputs), { ref, sha, workspace: '/ws' }).tags, [`1.2.3-${'a'.repeat(122)}`]);
  });
});
