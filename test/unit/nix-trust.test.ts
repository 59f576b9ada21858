// What build-nix trusts from the Actions cache and from a push-to URL: pure logic, on .narinfo
// files and `nix store verify` output captured from Nix 2.8 and 2.26.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheTrust } from '../../src/build-nix/binary-cache.js';
import { parseBuildNixInputs } from '../../src/build-nix/inputs.js';
import { pushTarget, pushToSecrets, redactLine } from '../../src/build-nix/push.js';
import { BinaryCacheError, IncompleteCacheError, isStorePath, missingClosure, parseNarInfo } from '../../src/nix/narinfo.js';
import { installerEnv, installerUrl } from '../../src/nix/install.js';
import { parseUntrustedPaths } from '../../src/nix/output.js';
import { checkOutputPath } from '../../src/verify-reproducibility/rebuild-nix.js';
import { fixture } from '../support/fixtures.js';

const IMAGE = '/nix/store/48scx80a40ynaqprgws5hmxmc7cl0h9h-vllm-container-oci.tar';
const PAYLOAD = '/nix/store/3s099mnsa6v43hai03vmrkzwvmvib1k2-vllm-payload';
const VERSIONS = ['2.8', '2.26'];

/** A copy of a captured file:// cache's .narinfo files, to tamper with. */
function cacheCopy(version: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'narinfo-'));
  cpSync(fixture('nix', version, 'file-cache-narinfo'), dir, { recursive: true });
  return dir;
}
const nothingValid = async (paths: string[]): Promise<string[]> => paths;

for (const version of VERSIONS) {
  test(`Nix ${version}: a .narinfo's StorePath, References (full paths) and Sig lines`, () => {
    const info = parseNarInfo(readFileSync(fixture('nix', version, 'file-cache-narinfo', `${IMAGE.slice(11, 43)}.narinfo`), 'utf8'));
    assert.deepEqual(info, { storePath: IMAGE, references: [PAYLOAD], signatures: [] });
  });

  test(`Nix ${version}: the closure walk follows References and stops at what the store has`, async () => {
    const dir = cacheCopy(version);
    assert.deepEqual(await missingClosure(dir, IMAGE, nothingValid), [PAYLOAD, IMAGE].sort());
    const asked: string[][] = [];
    const payloadValid = async (paths: string[]): Promise<string[]> => (asked.push(paths), paths.filter((p) => p !== PAYLOAD));
    assert.deepEqual(await missingClosure(dir, IMAGE, payloadValid), [IMAGE]);
    assert.deepEqual(asked, [[IMAGE], [PAYLOAD]]);
    assert.deepEqual(await missingClosure(dir, IMAGE, async () => []), []);
  });

  test(`Nix ${version}: "path '…' is untrusted" lines of nix store verify`, () => {
    assert.deepEqual(parseUntrustedPaths(readFileSync(fixture('nix', version, 'store-verify-untrusted.stderr.txt'), 'utf8')), [PAYLOAD, IMAGE].sort());
  });
}

const CHECK = '/nix/store/7071nidj3v0b5w7pqv2ygdn9v3zqikvq-vllm-container-nondeterministic-oci.tar.check';

for (const version of VERSIONS) {
  test(`Nix ${version}: the .check path comes from Nix's own "may not be deterministic" error line`, () => {
    assert.equal(checkOutputPath(readFileSync(fixture('nix', version, 'rebuild-check-differs.stderr.txt'), 'utf8')), CHECK);
  });
}

test('a build log cannot name a .check path: prefixed lines, other paths and traversal are ignored', () => {
  const line = (to: string, prefix = ''): string =>
    `${prefix}error: derivation '/nix/store/xbsm1pzifskvcwwdyjdz447n0n8d2y4s-x.drv' may not be deterministic: output '/nix/store/7071nidj3v0b5w7pqv2ygdn9v3zqikvq-x' differs from '${to}'`;
  assert.equal(checkOutputPath(line(CHECK, 'vllm-container-oci.tar> ')), undefined);
  assert.equal(checkOutputPath(`note: keeping build directory '/home/runner/work/repo/repo'\n${line(CHECK, '> ')}`), undefined);
  assert.equal(checkOutputPath(line('/home/runner/work/repo/repo.check')), undefined);
  assert.equal(checkOutputPath(line('/nix/store/7071nidj3v0b5w7pqv2ygdn9v3zqikvq-x')), undefined);
  assert.equal(checkOutputPath(line('/nix/store/7071nidj3v0b5w7pqv2ygdn9v3zqikvq-x/../../../home.check')), undefined);
  assert.equal(checkOutputPath(line(CHECK)), CHECK);
});

test('paths outside the closure are never listed, whatever else the cache holds', async () => {
  const dir = cacheCopy('2.8');
  const other = '/nix/store/0000000000000000000000000000000a-hello-text';
  writeFileSync(join(dir, '0000000000000000000000000000000a.narinfo'), `StorePath: ${other}\nReferences: \n`);
  const walked = await missingClosure(dir, IMAGE, nothingValid);
  assert.ok(!walked.includes(other));
  assert.deepEqual(walked, [PAYLOAD, IMAGE].sort());
});

test('hostile .narinfo files: bad references, a StorePath that is not the file\'s, a missing path', async () => {
  const tamper = async (text: string): Promise<unknown> => {
    const dir = cacheCopy('2.8');
    writeFileSync(join(dir, `${IMAGE.slice(11, 43)}.narinfo`), text);
    return missingClosure(dir, IMAGE, nothingValid);
  };
  for (const ref of ['../../../etc/passwd', '3s099mnsa6v43hai03vmrkzwvmvib1k2-a/b', 'SHORT-x', '--option', '3S099MNSA6V43HAI03VMRKZWVMVIB1K2-upper']) {
    await assert.rejects(tamper(`StorePath: ${IMAGE}\nReferences: ${ref}\n`), (e) => e instanceof BinaryCacheError && /is not a store path/.test(e.message), ref);
  }
  await assert.rejects(tamper(`StorePath: ${PAYLOAD}\nReferences: \n`), /names \/nix\/store\/3s099/);
  await assert.rejects(tamper(`References: \n`), /without StorePath/);
  await assert.rejects(tamper(`StorePath: ${IMAGE}\nReferences: 1111111111111111111111111111111a-absent\n`), (e) => e instanceof IncompleteCacheError);
  await assert.rejects(tamper(`StorePath: ${IMAGE}\n${'x'.repeat(2 * 1024 * 1024)}\n`), /bytes/);
  await assert.rejects(missingClosure(cacheCopy('2.8'), '/nix/store/../../etc', nothingValid), /is not a store path/);
  assert.ok(isStorePath(IMAGE));
  assert.ok(!isStorePath(`${IMAGE} --no-check-sigs`));
});

test('cache trust: the signing key verifies; unsigned only when the job neither signs nor pushes', () => {
  const pub = 'ci-1:kmQcfb8oLWpryrizbAjpUtVUDnl6CWHnq7DSGLIBIn0=';
  const other = 'other-1:AAAAfb8oLWpryrizbAjpUtVUDnl6CWHnq7DSGLIBIn0=';
  assert.deepEqual(cacheTrust({ trustedPublicKeys: [] }, pub), { mode: 'signed', keys: [pub] });
  assert.deepEqual(cacheTrust({ trustedPublicKeys: [other] }, pub), { mode: 'signed', keys: [other, pub] });
  assert.deepEqual(cacheTrust({ trustedPublicKeys: [other], pushTo: 'file:///c' }), { mode: 'signed', keys: [other] });
  assert.deepEqual(cacheTrust({ trustedPublicKeys: [] }), { mode: 'unsigned' });
  assert.deepEqual(cacheTrust({ trustedPublicKeys: [], pushTo: 'file:///c' }), { mode: 'off' });
});

test('push-to credentials: userinfo masked raw and percent-decoded; a bare ssh user is not a secret', () => {
  assert.deepEqual(pushToSecrets('https://ci:p%40ss%2Fword@cache.example.org/x').sort(), ['ci:p%40ss%2Fword', 'ci:p@ss/word', 'p%40ss%2Fword', 'p@ss/word'].sort());
  assert.deepEqual(pushToSecrets('http://tok%2Ben@cache.example.org'), ['tok%2Ben', 'tok+en']);
  assert.deepEqual(pushToSecrets('ssh://nix@builder.example.org'), []);
  assert.deepEqual(pushToSecrets('ssh://nix:hunter22@builder'), ['nix:hunter22', 'hunter22']);
  assert.deepEqual(pushToSecrets('file:///tmp/cache'), []);
});

test('push-to credentials: every line redacted, and moved from the URL into a netrc entry', () => {
  const secrets = pushToSecrets('https://ci:p%40ss@cache.example.org/x');
  assert.equal(redactLine("error: unable to upload 'https://ci:p%40ss@cache.example.org/x/nix-cache-info'", secrets), "error: unable to upload 'https://***@cache.example.org/x/nix-cache-info'");
  assert.equal(redactLine('HTTP error 401 for user ci with p@ss', secrets), 'HTTP error 401 for user ci with ***');
  assert.deepEqual(pushTarget('https://ci:p%40ss@cache.example.org:8443/x?compression=zstd'), {
    url: 'https://cache.example.org:8443/x?compression=zstd',
    netrc: 'machine cache.example.org login ci password p@ss\n',
  });
  assert.deepEqual(pushTarget('s3://bucket?region=eu-west-1'), { url: 's3://bucket?region=eu-west-1' });
  assert.deepEqual(pushTarget('ssh://nix@builder'), { url: 'ssh://nix@builder' });
});

test('a push-to that is no URL is an input error that never quotes its credentials', () => {
  const get = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';
  assert.throws(() => parseBuildNixInputs(get({ 'push-to': 'ftp://ci:s3cret@cache.example.org' }), '/w'), (e: Error) => /^Input 'push-to': 'ftp:\/\/\*\*\*@cache\.example\.org' is not a binary cache URL/.test(e.message) && !e.message.includes('s3cret'));
  assert.throws(() => parseBuildNixInputs(get({ 'push-to': 'https://ci:with%20space@cache.example.org' }), '/w'), /Input 'push-to': credentials with spaces/);
});

test('the Nix installer: https only, and an environment without the job\'s tokens or inputs', () => {
  assert.equal(installerUrl('2.28.3'), 'https://releases.nixos.org/nix/nix-2.28.3/install');
  assert.throws(() => installerUrl('2.28.3', 'http://mirror.example.org/install'), /only downloaded over https/);
  const env = installerEnv({ PATH: '/usr/bin', HOME: '/home/runner', USER: 'runner', GITHUB_TOKEN: 'ghs_x', ACTIONS_RUNTIME_TOKEN: 'rt', 'INPUT_GITHUB-TOKEN': 'ghs_x', AWS_SECRET_ACCESS_KEY: 's' });
  assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/home/runner', USER: 'runner', NIX_INSTALLER_NO_MODIFY_PROFILE: '1' });
});
