// build-nix, run from dist/ as the runner runs it, against real Nix — Debian 12's nix-bin 2.8 on
// this machine and trixie's nix-bin 2.26 in a debootstrap root — the Actions cache stand-in, and
// file:// and loopback-HTTP binary caches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newRunnerJob, node24, REPO_ROOT, runStep, runStepWithPost, type RunnerJob, type StepResult, valuesSet } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { deleteClosure, generateKeyPair, nixFlakeFixture, THIS_MACHINE, trixieHost, WITHOUT_HOST_NIX, type NixHost } from '../support/nix.js';
import type { StepOptions } from '../support/action-runner.js';
import { requireTools, sh } from '../support/tools.js';
import { HOSTILE_MEMBERS, hostileCacheArchive, plantCacheArchive } from '../support/hostile-cache.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'build-nix-'));
let jobs = 0;

function freshJob(s: ActionsServices = services): RunnerJob {
  return newRunnerJob(join(root, 'runner'), s.jobEnv('run-1', `job-${++jobs}`));
}

function flakeJob(fixtureName: string, s?: ActionsServices): RunnerJob {
  const job = freshJob(s);
  nixFlakeFixture(fixtureName, job.workspace);
  return job;
}

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.leakedSecrets, []);
  return result;
}


/**
 * What anyone with one job on the default branch's cache scope can do: save any directory as
 * build-nix's binary cache under any key (with the real @actions/cache, as a workflow step would).
 */
async function plantCacheEntry(job: RunnerJob, key: string, from: string): Promise<void> {
  const dir = join(job.temp, 'vllm-rocm-action', 'build-nix', 'binary-cache');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(from, dir, { recursive: true });
  const save = "const c = await import('@actions/cache'); if (await c.saveCache([process.argv[1]], process.argv[2]) === -1) process.exit(3);";
  // Asynchronously: the cache stand-in answers from this very process.
  await promisify(execFile)(node24(), ['--input-type=module', '-e', save, dir, key], { cwd: REPO_ROOT, env: { ...process.env, ...job.env, RUNNER_TEMP: job.temp, GITHUB_WORKSPACE: job.workspace } });
  rmSync(dir, { recursive: true, force: true });
}

/** The cache key a job would use, from a main run that found no entry (and saved none: no post). */
async function learnCacheKey(job: RunnerJob, opts: StepOptions): Promise<{ key: string; storePath: string; digest: string }> {
  const result = await runStep('build-nix', job, opts);
  ok(result);
  const key = /No Nix binary cache for (\S+) yet\./.exec(result.stdout)?.[1];
  assert.ok(key, result.stdout.slice(-2000));
  return { key, storePath: result.outputs['store-path']!, digest: result.outputs.digest! };
}

const FORGED = 'this is not the real vllm';

/**
 * A file:// binary cache of `storePath`'s closure in which the payload's NAR is the attacker's:
 * same store path, other bytes, a consistent but unsigned .narinfo.
 */
function forgeCache(host: NixHost, storePath: string): { dir: string; payload: string } {
  const dir = mkdtempSync(join(tmpdir(), 'forged-cache-'));
  host.run('nix', ['copy', '--to', `file://${dir}?compression=none`, storePath]);
  const payload = host.run('nix-store', ['--query', '--requisites', storePath]).split('\n').find((p) => p.endsWith('-vllm-payload'))!;
  const evil = mkdtempSync(join(tmpdir(), 'forged-payload-'));
  mkdirSync(join(evil, 'opt', 'vllm', 'bin'), { recursive: true });
  writeFileSync(join(evil, 'opt', 'vllm', 'bin', 'serve'), `#!/bin/sh\necho "${FORGED}"\n`);
  chmodSync(join(evil, 'opt', 'vllm', 'bin', 'serve'), 0o555);
  const nar = join(dir, 'nar', 'forged.nar');
  writeFileSync(nar, execFileSync('nix-store', ['--dump', evil]));
  const hash = sh('nix-hash', ['--type', 'sha256', '--flat', '--base32', nar]).trim();
  const size = statSync(nar).size;
  writeFileSync(join(dir, `${payload.slice(11, 43)}.narinfo`), `StorePath: ${payload}\nURL: nar/forged.nar\nCompression: none\nFileHash: sha256:${hash}\nFileSize: ${size}\nNarHash: sha256:${hash}\nNarSize: ${size}\nReferences: \n`);
  return { dir, payload };
}

function isValid(host: NixHost, path: string): boolean {
  return !host.run('nix-store', ['--check-validity', '--print-invalid', path]).includes(path);
}

/** Deletes a closure when the store has it, so that the next build runs from scratch. */
function forget(host: NixHost, storePath: string): void {
  if (isValid(host, storePath)) deleteClosure(storePath, host);
}

function serveScript(host: NixHost, payload: string): string {
  return readFileSync(host.hostPath(join(payload, 'opt', 'vllm', 'bin', 'serve')), 'utf8');
}

const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

before(async () => {
  requireTools('nix', 'nix-store', 'skopeo', 'docker', 'tar');
  services = await startActionsServices();
});
after(async () => services?.stop());

function buildNixSuite(host: NixHost): void {
  const opts = (o: StepOptions = {}): StepOptions => ({ ...o, wrap: host.wrap, ...(host.node ? { node: host.node } : {}) });
  const stepWithPost = (job: RunnerJob, o: StepOptions = {}) => runStepWithPost('build-nix', job, opts(o));

  describe(`${host.label}`, () => {
  describe('OCI archive image', () => {
    test('digest is the manifest skopeo reads; a second run in a fresh store comes from the Actions cache with paths-built 0', async (t) => {
      const own = await startActionsServices(); // this test's cache only
      t.after(() => own.stop());
      const first = await stepWithPost(flakeJob('oci', own));
      ok(first.main);
      assert.equal(first.post.exitCode, 0);
      const out = first.main.outputs;
      const storePath = out['store-path']!;
      assert.match(storePath, /^\/nix\/store\/[a-z0-9]{32}-vllm-container-oci\.tar$/);
      assert.match(out['drv-path']!, /\.drv$/);
      assert.equal(out['image-archive'], storePath);
      const raw = sh('skopeo', ['inspect', '--raw', `oci-archive:${host.hostPath(storePath)}`]);
      assert.equal(out.digest, sha256(raw));
      const manifest = JSON.parse(raw) as { config: { size: number }; layers: Array<{ size: number }> };
      assert.equal(Number(out['size-bytes']), Buffer.byteLength(raw) + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0));
      const info = JSON.parse(host.run('nix', ['path-info', '--json', storePath])) as Array<{ narHash: string }> | Record<string, { narHash: string }>;
      const narHash = Array.isArray(info) ? info[0]!.narHash : Object.values(info)[0]!.narHash;
      // Nix 2.8 may print sha256:<nix32>: compare in SRI form, never the output with itself.
      assert.equal(out['nar-hash'], narHash.startsWith('sha256-') ? narHash : host.run('nix', ['hash', 'to-sri', narHash]).trim());
      assert.match(out['nar-hash']!, /^sha256-[A-Za-z0-9+/]{43}=$/);
      assert.match(first.main.summary, /\| Paths built \/ substituted \| \d+ \/ \d+ \|/);
      assert.equal(own.cacheEntries().length, 1, 'one Actions cache entry for the whole closure');
      assert.match(own.cacheEntries()[0]!.key, /^vllm-rocm-action-nix-x86_64-linux-[0-9a-f]{12}-2\.\d+\.\d+-[0-9a-f]{16}-[a-z0-9]{32}$/);

      const deleted = deleteClosure(storePath, host);
      assert.ok(deleted.length >= 2, 'the closure has the image and its payload');
      const second = await stepWithPost(flakeJob('oci', own));
      ok(second.main);
      assert.equal(second.main.outputs['paths-built'], '0');
      assert.equal(second.main.outputs['paths-substituted'], String(deleted.length));
      assert.equal(second.main.outputs.digest, out.digest);
      assert.equal(second.main.outputs['nar-hash'], out['nar-hash']);
      assert.match(second.main.stdout, /Restored Nix binary cache vllm-rocm-action-nix-/);
      assert.match(second.post.stdout, /restored exactly and nothing new was built; not saving/);
      assert.equal(own.cacheEntries().length, 1);
      // Honest timing: the build from cache builds nothing; restoring the closure is where its time went.
      for (const run of [first, second]) {
        assert.match(run.main.outputs['restore-seconds']!, /^\d+\.\d$/);
        assert.match(run.main.summary, /\| Build time \| \d+\.\d s \(restoring the cache before it: \d+\.\d s;/);
        assert.match(run.post.summary, /<h3>Job time by phase<\/h3>/);
        assert.match(run.post.summary, /\| restore the cache \(Actions cache, import\) \| \d+\.\d s \(\d+ %\) \|/);
        assert.match(run.post.summary, /\| save the cache \(Actions cache, post\) \| \d+\.\d s/);
        assert.match(run.post.summary, /\| peak extra disk \| [\d.]+ (?:B|KiB|MiB|GiB) \([\d.]+× the image's compressed size, [\d.]+ (?:B|KiB|MiB|GiB)\) \|/, run.post.summary);
      }
      assert.ok(Number(second.main.outputs['restore-seconds']) > 0, 'importing the closure takes time');
    });
  });

  describe('docker-archive and stream images', () => {
    // The fixed encoding: config bytes as they are, layers = the uncompressed layer tars.
    function expectedDigest(archive: string): { digest: string; size: number } {
      const dir = mkdtempSync(join(tmpdir(), 'docker-archive-'));
      sh('tar', ['-xf', archive, '-C', dir]);
      const [entry] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; Layers: string[] }>;
      const config = readFileSync(join(dir, entry!.Config));
      const layers = entry!.Layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(readFileSync(join(dir, l))), size: statSync(join(dir, l)).size }));
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers,
      }));
      return { digest: sha256(manifest), size: manifest.length + config.length + layers.reduce((n, l) => n + l.size, 0) };
    }

    test('a gzip\'ed docker-archive (dockerTools.buildImage): digest of the OCI image it is pushed as', async () => {
      const { main } = await stepWithPost(flakeJob('docker-archive'), { inputs: { cache: 'none' } });
      ok(main);
      assert.equal(main.outputs['image-archive'], main.outputs['store-path']);
      const archive = host.hostPath(main.outputs['image-archive']!);
      const expected = expectedDigest(archive);
      assert.equal(main.outputs.digest, expected.digest);
      assert.equal(Number(main.outputs['size-bytes']), expected.size);
      assert.match(sh('docker', ['load', '-i', archive]), /Loaded image/);
    });

    test('a stream script (streamLayeredImage): the stream is written under RUNNER_TEMP and described', async () => {
      const job = flakeJob('stream');
      const { main } = await stepWithPost(job, { inputs: { cache: 'none' } });
      ok(main);
      const archive = main.outputs['image-archive']!;
      assert.ok(archive.startsWith(job.temp), archive);
      assert.ok(existsSync(archive));
      assert.equal(main.outputs.digest, expectedDigest(archive).digest);
      assert.match(sh('docker', ['load', '-i', archive]), /Loaded image/);
    });
  });

  describe('binary caches given by the user', () => {
    let server: Server;
    let pushDir = '';
    let httpUrl = '';
    const keys = generateKeyPair('vllm-ci-1');
    const otherKeys = generateKeyPair('someone-else-1');

    before(async () => {
      pushDir = mkdtempSync(join(tmpdir(), 'nix-binary-cache-'));
      // A read-only HTTP binary cache on loopback serving what push-to wrote.
      server = createServer((req, res) => {
        const path = join(pushDir, decodeURIComponent((req.url ?? '/').split('?')[0]!));
        if (!path.startsWith(pushDir) || !existsSync(path) || statSync(path).isDirectory()) return void res.writeHead(404).end();
        res.writeHead(200);
        createReadStream(path).pipe(res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      httpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server?.close());

    test('push-to file:// signs and copies the closure; a fresh store substitutes it from file:// and from HTTP with paths-built 0', async () => {
      const { main } = await stepWithPost(flakeJob('docker-archive'), {
        inputs: { cache: 'none', 'push-to': `file://${pushDir}`, 'signing-key': keys.secret },
      });
      ok(main);
      assert.ok(main.masks.includes(keys.secret), 'the signing key is masked');
      assert.ok(!main.stdout.replace(`::add-mask::${keys.secret}`, '').includes(keys.secret.split(':')[1]!));
      const narinfo = readFileSync(join(pushDir, `${main.outputs['store-path']!.slice(11, 43)}.narinfo`), 'utf8');
      assert.match(narinfo, /^Sig: vllm-ci-1:/m);

      for (const substituter of [`file://${pushDir}`, httpUrl]) {
        const closure = deleteClosure(main.outputs['store-path']!, host);
        const again = await stepWithPost(flakeJob('docker-archive'), {
          inputs: { cache: 'none', 'extra-args': `--option substituters ${substituter} --option trusted-public-keys ${keys.public}` },
        });
        ok(again.main);
        assert.equal(again.main.outputs['paths-built'], '0', substituter);
        assert.equal(again.main.outputs['paths-substituted'], String(closure.length), substituter);
        assert.equal(again.main.outputs.digest, main.outputs.digest);
      }
    });

    test('push-to credentials (http://user:pass@…) reach the server but never stdout, stderr, the summary or ps', async (t) => {
      const password = 'p@ss/w:rd-9f3c1e';
      const user = 'ci-pusher';
      const cacheDir = mkdtempSync(join(tmpdir(), 'nix-auth-cache-'));
      const seen = { authorized: 0, refused: 0, inPs: [] as string[] };
      const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      // An HTTP binary cache that wants basic auth for every request; while nix talks to it, it looks at every process's argv.
      const authServer = createServer((req, res) => {
        const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
        for (const form of [password, encodeURIComponent(password)]) if (ps.includes(form)) seen.inPs.push(form);
        if (req.headers.authorization !== expected) {
          seen.refused++;
          return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cache"' }).end();
        }
        seen.authorized++;
        const path = join(cacheDir, decodeURIComponent((req.url ?? '/').split('?')[0]!));
        if (!path.startsWith(cacheDir)) return void res.writeHead(400).end();
        if (req.method === 'PUT') {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            mkdirSync(join(path, '..'), { recursive: true });
            writeFileSync(path, Buffer.concat(chunks));
            res.writeHead(200).end();
          });
          return;
        }
        if (!existsSync(path) || statSync(path).isDirectory()) return void res.writeHead(404).end();
        res.writeHead(200).end(readFileSync(path));
      });
      await new Promise<void>((resolve) => authServer.listen(0, '127.0.0.1', resolve));
      t.after(() => authServer.close());
      const base = `127.0.0.1:${(authServer.address() as AddressInfo).port}`;
      const secretForms = [password, encodeURIComponent(password), `${user}:${password}`, `${user}:${encodeURIComponent(password)}`];
      const clean = (result: StepResult): void => {
        const stdout = result.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n');
        for (const text of [stdout, result.stderr, result.summary, JSON.stringify(result.outputs), JSON.stringify(result.state)]) {
          for (const form of secretForms) assert.ok(!text.includes(form), `a push-to credential leaked: ${form}`);
        }
        assert.deepEqual(result.leakedSecrets, []);
      };

      const { main } = await stepWithPost(flakeJob('docker-archive'), {
        inputs: { cache: 'none', 'signing-key': keys.secret, 'push-to': `http://${user}:${encodeURIComponent(password)}@${base}/cache` },
      });
      ok(main);
      clean(main);
      assert.ok(main.masks.includes(password) && main.masks.includes(encodeURIComponent(password)), 'masked raw and percent-decoded');
      assert.match(main.summary, /\| Pushed to \| http:\/\/127\.0\.0\.1:\d+\/cache \|/);
      assert.ok(existsSync(join(cacheDir, 'cache', `${main.outputs['store-path']!.slice(11, 43)}.narinfo`)), 'pushed, authenticated by the netrc file');
      assert.ok(seen.authorized > 0);
      assert.deepEqual(seen.inPs, [], 'the password was in some process\'s argv');

      // A wrong password: nix's error is a warning, redacted like every other line.
      const refusedJob = flakeJob('docker-archive');
      const refused = await runStep('build-nix', refusedJob, opts({ inputs: { cache: 'none', 'push-to': `http://${user}:wrong-${encodeURIComponent(password)}@${base}/other` } }));
      assert.equal(refused.exitCode, 0);
      assert.ok(seen.refused > 0);
      assert.ok(refused.warnings.some((w) => /^Pushing to http:\/\/127\.0\.0\.1:\d+\/other failed/.test(w)), refused.warnings.join('\n'));
      clean(refused);
      assert.deepEqual(seen.inPs, []);
      assert.deepEqual(readdirSync(join(refusedJob.temp, 'vllm-rocm-action', 'build-nix')).filter((n) => n.startsWith('push-netrc-')), [], 'the netrc file is removed');
    });

    test('the Actions-cache closure is signature-checked when trusted-public-keys is set: signed is taken, wrongly signed is refused', async (t) => {
      const own = await startActionsServices();
      t.after(() => own.stop());
      // Built here (an earlier test may have imported this closure unsigned: such paths are never signed) and saved signed with vllm-ci-1.
      const job = flakeJob('oci', own);
      forget(host, host.run('nix', ['eval', '--raw', `path:${job.workspace}#vllm-container.outPath`]).trim());
      const first = await stepWithPost(job, { inputs: { 'signing-key': keys.secret } });
      ok(first.main);
      const storePath = first.main.outputs['store-path']!;

      deleteClosure(storePath, host);
      const trusted = await stepWithPost(flakeJob('oci', own), { inputs: { 'trusted-public-keys': keys.public } });
      ok(trusted.main);
      assert.equal(trusted.main.outputs['paths-built'], '0');
      assert.match(trusted.main.stdout, /store paths imported, signatures checked/);

      deleteClosure(storePath, host);
      const wrongKey = await stepWithPost(flakeJob('oci', own), { inputs: { 'trusted-public-keys': otherKeys.public } });
      assert.equal(wrongKey.main.exitCode, 0);
      assert.ok(wrongKey.main.warnings.some((w) => /restored Nix binary cache .* was refused/.test(w)), wrongKey.main.warnings.join('\n'));
      assert.ok(Number(wrongKey.main.outputs['paths-built']) >= 2, 'built from scratch instead');
      assert.equal(wrongKey.main.outputs.digest, first.main.outputs.digest);
    });

    test('an unsigned Actions-cache closure is refused when trusted-public-keys is set', async (t) => {
      const own = await startActionsServices();
      t.after(() => own.stop());
      const first = await stepWithPost(flakeJob('oci', own), { inputs: { 'extra-args': '--rebuild' } });
      ok(first.main);
      assert.equal(own.cacheEntries().length, 1);
      deleteClosure(first.main.outputs['store-path']!, host);
      const checked = await stepWithPost(flakeJob('oci', own), { inputs: { 'trusted-public-keys': keys.public } });
      assert.equal(checked.main.exitCode, 0);
      assert.ok(checked.main.warnings.some((w) => /was refused \(.*(signature|signed)/i.test(w)), checked.main.warnings.join('\n'));
      assert.ok(Number(checked.main.outputs['paths-built']) >= 2);
    });
  });

  describe('the Actions cache is untrusted input', () => {
    const keys = generateKeyPair('vllm-ci-1');

    test('a forged NAR under the exact key: refused and built when the job signs; imported only with the summary warning when it neither signs nor pushes, and then never signed', async (t) => {
      const own = await startActionsServices();
      const learned = await learnCacheKey(flakeJob('oci', own), opts());
      const forged = forgeCache(host, learned.storePath);
      t.after(async () => {
        forget(host, learned.storePath); // the forged payload never outlives the test
        await own.stop();
      });
      await plantCacheEntry(freshJob(own), learned.key, forged.dir);

      deleteClosure(learned.storePath, host);
      const signing = await runStep('build-nix', flakeJob('oci', own), opts({ inputs: { 'signing-key': keys.secret } }));
      ok(signing);
      assert.ok(signing.warnings.some((w) => /restored Nix binary cache .* was refused/.test(w)), signing.warnings.join('\n'));
      assert.ok(Number(signing.outputs['paths-built']) >= 2, 'built instead');
      assert.equal(signing.outputs.digest, learned.digest);
      assert.ok(!serveScript(host, forged.payload).includes(FORGED), 'the real payload, built here');
      assert.match(signing.summary, /\| Cache trust \| signatures checked/);

      deleteClosure(learned.storePath, host);
      const unsigned = await runStep('build-nix', flakeJob('oci', own), opts());
      ok(unsigned);
      assert.equal(unsigned.outputs['paths-built'], '0');
      assert.ok(serveScript(host, forged.payload).includes(FORGED), 'without keys the cache is taken as it is…');
      assert.match(unsigned.summary, /\| Cache trust \| :warning: \*\*unauthenticated\*\*/);
      assert.ok(unsigned.warnings.some((w) => /without signatures: the cache is unauthenticated/.test(w)), unsigned.warnings.join('\n'));

      // …and what came unverified never gets the key, even when a later job (same store) signs and pushes.
      const pushDir = mkdtempSync(join(tmpdir(), 'nix-push-'));
      const signer = await runStep('build-nix', flakeJob('oci', own), opts({ inputs: { cache: 'none', 'signing-key': keys.secret, 'push-to': `file://${pushDir}` } }));
      ok(signer);
      assert.ok(signer.warnings.some((w) => /Not signing 2 store path\(s\) that were neither built here nor signed by a trusted key/.test(w)), signer.warnings.join('\n'));
      for (const path of [learned.storePath, forged.payload]) {
        assert.doesNotMatch(readFileSync(join(pushDir, `${path.slice(11, 43)}.narinfo`), 'utf8'), /^Sig:/m, path);
      }
    });

    test('a prefix-only entry is not restored without keys, and paths outside the closure are never imported', async (t) => {
      const own = await startActionsServices();
      const learnJob = flakeJob('oci', own);
      const learned = await learnCacheKey(learnJob, opts());
      const forged = forgeCache(host, learned.storePath);
      const hello = (JSON.parse(host.run('nix', ['build', '--no-link', '--json', `path:${learnJob.workspace}#hello-text`])) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
      const legit = mkdtempSync(join(tmpdir(), 'cache-plus-'));
      host.run('nix', ['copy', '--to', `file://${legit}`, learned.storePath, hello]);
      t.after(async () => {
        forget(host, learned.storePath);
        await own.stop();
      });

      // An entry for "another derivation" of the same flake: what a prefix restore would take.
      await plantCacheEntry(freshJob(own), `${learned.key.slice(0, -32)}${'0'.repeat(32)}`, forged.dir);
      deleteClosure(learned.storePath, host);
      const prefixOnly = await runStep('build-nix', flakeJob('oci', own), opts());
      ok(prefixOnly);
      assert.match(prefixOnly.stdout, new RegExp(`No Nix binary cache for ${learned.key} yet`));
      assert.ok(Number(prefixOnly.outputs['paths-built']) >= 2);
      assert.ok(!serveScript(host, forged.payload).includes(FORGED));

      // The exact key, holding the closure and a path that is not part of it.
      await plantCacheEntry(freshJob(own), learned.key, legit);
      deleteClosure(learned.storePath, host);
      forget(host, hello);
      const exact = await runStep('build-nix', flakeJob('oci', own), opts());
      ok(exact);
      assert.equal(exact.outputs['paths-built'], '0');
      assert.equal(exact.outputs['paths-substituted'], '2', exact.stdout.split('\n').filter((l) => !l.startsWith('::debug::')).join('\n').slice(-3000));
      assert.ok(!isValid(host, hello), `${hello} is in the cache entry but not in the closure: never imported`);
    });
  });
  });
}

buildNixSuite(THIS_MACHINE);
buildNixSuite(trixieHost());

describe('an Actions cache entry that writes outside its directory (issue 18)', () => {
  test('an absolute, a ../ and a symlink-then-file member: refused with a warning, nothing written outside, the build runs without the cache', async (t) => {
    const own = await startActionsServices();
    t.after(() => own.stop());
    const learned = await learnCacheKey(flakeJob('oci', own), {});
    const job = flakeJob('oci', own);
    const dir = join(job.temp, 'vllm-rocm-action', 'build-nix', 'binary-cache');
    const victim = mkdtempSync(join(root, 'victim-'));
    const archive = hostileCacheArchive([...HOSTILE_MEMBERS], { workspace: job.workspace, dir, victim, work: root });
    await plantCacheArchive({ ...job.env, RUNNER_TEMP: job.temp, GITHUB_WORKSPACE: job.workspace }, dir, learned.key, archive);
    const result = ok(await runStep('build-nix', job, {}));
    assert.deepEqual(readdirSync(victim), [], 'a cache member was written outside the cache directory');
    assert.ok(result.warnings.some((w) => /^Cache entry refused \(building without it\): member .* (is outside the cache directory|is a symlink)/.test(w)), result.warnings.join('\n'));
    assert.match(result.stdout, new RegExp(`No Nix binary cache for ${learned.key} yet`));
    assert.equal(result.outputs.digest, learned.digest);
  });
});

describe('a Nix evaluation and builder that forge runner commands (issue 18)', () => {
  test('save-state (build-nix\'s nix-cache naming a victim, the pipeline\'s pipeline-started) and set-output, both forms, from builtins.trace and the builder\'s stdout and stderr: the runner sees none, post leaves the victim alone, the outputs are the build\'s', async () => {
    const job = flakeJob('forging');
    const victim = mkdtempSync(join(root, 'victim-'));
    mkdirSync(`${victim}-new`);
    writeFileSync(join(victim, 'keep'), 'mine');
    writeFileSync(join(job.workspace, 'victim'), victim); // read by the flake: a fresh derivation each run, so the builder runs
    const { main, post } = await runStepWithPost('build-nix', job, { inputs: { cache: 'none' } });
    ok(main);
    assert.equal(post.exitCode, 0, post.stdout.slice(-2000));
    assert.match(`${main.stdout}${main.stderr}`, /##\[\\save-state name=nix-cache\]\{"dir":/, 'the builder ran and its forged lines are shown, neutralised');
    // (The evaluation's trace is not shown at all; the runner saw none of it either, below.)
    const forged = [...main.commands, ...post.commands].filter((c) => ['save-state', 'set-output'].includes(c.name.toLowerCase()));
    assert.deepEqual(forged, [], 'the runner read a forged command');
    assert.ok(existsSync(join(victim, 'keep')) && existsSync(`${victim}-new`), 'post removed the victim directory');
    assert.equal(main.state['nix-cache'], '', 'claimed by main, never set (cache: none)');
    assert.equal(main.state['pipeline-started'], undefined);
    assert.match(main.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(main.outputs.digest, `sha256:${createHash('sha256').update('forged').digest('hex')}`);
    assert.match(main.outputs['store-path']!, /^\/nix\/store\/[0-9a-z]{32}-docker-image-vllm-container\.tar\.gz$/);
  });
});

describe('bad input: clear error, exit 1', () => {
  async function fails(fixtureName: string | undefined, inputs: Record<string, string>, pattern: RegExp): Promise<StepResult> {
    const job = fixtureName ? flakeJob(fixtureName) : freshJob();
    const result = await runStep('build-nix', job, { inputs: { cache: 'none', ...inputs } });
    assert.equal(result.exitCode, 1, result.stdout.slice(-3000));
    assert.equal(result.errors.length, 1, result.errors.join(' | '));
    assert.match(result.errors[0]!, pattern);
    assert.deepEqual(valuesSet(result.outputs), {});
    assert.deepEqual(result.leakedSecrets, []);
    return result;
  }

  test('no flake at flake', async () => void (await fails(undefined, {}, /^Input 'flake': no flake\.nix in .*workspace/)));
  test('attr not found lists the attrs that exist', async () =>
    void (await fails('oci', { attr: 'vllm-rocm' }, /^Input 'attr': the flake has no packages\.x86_64-linux\.vllm-rocm; it has: default, hello-text, vllm-container, vllm-container-nondeterministic, vllm-payload/)));
  test('a system the flake does not build for', async () => void (await fails('oci', { system: 'aarch64-darwin' }, /^Input 'system': the flake has no packages\.aarch64-darwin/)));
  test('an invalid push-to', async () => void (await fails('oci', { 'push-to': 'ftp://cache.example.org' }, /^Input 'push-to': 'ftp:\/\/cache\.example\.org' is not a binary cache URL/)));
  test('a signing-key that does not parse, its value never printed', async () => {
    const secret = 'vllm-ci-1:notAValidKeyButStillSecret==';
    const result = await fails('oci', { 'signing-key': secret }, /^Input 'signing-key': is not a Nix secret key/);
    assert.ok(!result.stdout.includes('notAValidKeyButStillSecret'));
    assert.ok(!result.stderr.includes('notAValidKeyButStillSecret'));
  });
  test('unknown cache', async () => void (await fails('oci', { cache: 'cachix' }, /^Input 'cache': must be one of gha, none/)));
  test('a failing build shows its last log lines', async () => void (await fails('failing', {}, /^nix build .* exited 1\nLast log lines:\n[\s\S]*error: hipcc not found/)));
  test('Nix missing', async () => {
    const job = flakeJob('oci');
    const result = await runStep('build-nix', job, { inputs: { cache: 'none' }, env: { PATH: '/nonexistent' }, wrap: WITHOUT_HOST_NIX });
    assert.equal(result.exitCode, 1);
    assert.match(result.errors[0]!, /Nix is not installed on this runner: add the setup-nix stage before build-nix/);
  });
});
