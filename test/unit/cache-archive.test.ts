// How the suite restores an Actions cache entry (src/action/cache.ts, cache-archive.ts): the
// installed @actions/cache still calls tar the way the stub expects, its version is pinned, and
// archives made by GNU tar with members other than plain files and directories under the
// expected path are refused before anything is written outside a fresh directory.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CACHE_LIMITS, CacheEntryRefused, checkPlainTree, extractCacheArchive, memberPath } from '../../src/action/cache-archive.js';
import { tarStubScript, withTarStub } from '../../src/action/cache.js';
import { REPO_ROOT } from '../support/action-runner.js';
import { HOSTILE_MEMBERS, hostileCacheArchive } from '../support/hostile-cache.js';

const work = mkdtempSync(join(tmpdir(), 'cache-archive-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string): string => mkdtempSync(join(work, `${name}-${++n}-`));

const PREFIX = '../_temp/vllm-rocm-action/build-nix/binary-cache';

/** A tar made by GNU tar from `stage` (names rewritten by `transform`), compressed as asked. */
function gnuTar(stage: string, members: string[], transforms: string[], compress: 'zstd' | 'gzip' | 'none' = 'zstd', extra: string[] = []): string {
  const tarFile = join(stage, '..', `${++n}.tar`);
  execFileSync('tar', ['--posix', '-P', '-C', stage, '-cf', tarFile, ...extra, ...transforms.flatMap((t) => ['--transform', t]), ...members]);
  if (compress === 'none') return tarFile;
  execFileSync(compress, compress === 'zstd' ? ['-q', '--rm', tarFile] : ['-q', tarFile]);
  return compress === 'zstd' ? `${tarFile}.zst` : `${tarFile}.gz`;
}

function stageWith(files: Record<string, string>): string {
  const stage = fresh('stage');
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(dirname(join(stage, name)), { recursive: true });
    writeFileSync(join(stage, name), body);
  }
  return stage;
}

async function refused(archive: string, pattern: RegExp, limits = CACHE_LIMITS): Promise<string> {
  const into = fresh('into');
  const error = await extractCacheArchive(archive, PREFIX, into, limits).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CacheEntryRefused, `refused, not ${String(error)}`);
  assert.match(error.message, pattern);
  return into;
}

describe('the installed @actions/cache', () => {
  const installed = (JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('@actions/cache')), 'utf8')) as { version: string }).version;

  test('is pinned to its exact version in package.json and package-lock.json (the stub relies on its tar argv)', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
    assert.equal(pkg.dependencies['@actions/cache'], installed);
    assert.equal(lock.packages['']!.dependencies!['@actions/cache'], installed);
    assert.equal(lock.packages['node_modules/@actions/cache']!.version, installed);
  });

  // Its internal tar module, not exported: imported by file, to run its real argv (getTarArgs).
  const tarModule = async (): Promise<{
    extractTar(archive: string, method: string): Promise<void>;
    listTar(archive: string, method: string): Promise<void>;
    createTar(folder: string, paths: string[], method: string): Promise<void>;
  }> => import(new URL('internal/tar.js', new URL(import.meta.resolve('@actions/cache'))).href);

  for (const method of ['zstd-without-long', 'zstd', 'gzip']) {
    test(`extractTar (${method}) hands its archive to the stub and extracts nothing; its debug listing prints nothing`, async () => {
      const { extractTar, listTar } = await tarModule();
      const workspace = fresh('ws');
      const archive = join(fresh('dl'), 'cache.tzst');
      writeFileSync(archive, 'archive bytes');
      const hold = fresh('hold');
      const held = join(hold, 'archive');
      const saved = process.env.GITHUB_WORKSPACE;
      process.env.GITHUB_WORKSPACE = workspace;
      try {
        await withTarStub(hold, held, async () => {
          await listTar(archive, method);
          assert.ok(existsSync(archive), 'listing leaves the archive');
          await extractTar(archive, method);
        });
      } finally {
        if (saved === undefined) delete process.env.GITHUB_WORKSPACE;
        else process.env.GITHUB_WORKSPACE = saved;
      }
      assert.equal(readFileSync(held, 'utf8'), 'archive bytes');
      assert.ok(!existsSync(archive));
      assert.deepEqual(readdirSync(workspace), []);
      assert.ok(!process.env.PATH!.includes(hold), 'PATH is restored');
    });
  }

  test('any other tar call through the stub fails (createTar): a changed argv is a failed restore, never an extraction', async () => {
    const { createTar } = await tarModule();
    const hold = fresh('hold');
    const folder = fresh('folder');
    await assert.rejects(withTarStub(hold, join(hold, 'archive'), () => createTar(folder, ['x'], 'gzip')), /bin\/tar" failed with error: .*exit code 2/);
    assert.match(tarStubScript("/tmp/it's"), /mv -f -- "\$2" '\/tmp\/it'\\''s'/, 'the held path is quoted for sh');
  });

  test('the stub for several restores (restoreEntries) shows an archive under archive.* only once it is whole', () => {
    // restoreEntries extracts each archive.* as soon as it appears, while others download: the
    // move into `held` (a copy when it crosses file systems) must not be visible under that name.
    const hold = fresh('hold');
    const held = join(hold, 'held');
    mkdirSync(held);
    const stub = join(hold, 'tar');
    writeFileSync(stub, tarStubScript(held, { unique: true }), { mode: 0o700 });
    const bin = fresh('bin');
    const log = join(hold, 'mv.log');
    // An mv that notes what `held` holds when each move starts.
    writeFileSync(join(bin, 'mv'), `#!/bin/sh\nls -A "$HELD" >> "$LOG"; echo -- >> "$LOG"; exec /bin/mv "$@"\n`, { mode: 0o755 });
    for (const body of ['first archive', 'second archive']) {
      const download = join(fresh('dl'), 'cache.tzst');
      writeFileSync(download, body);
      execFileSync('sh', [stub, '-xf', download, '-P', '-C', '/nowhere', '--use-compress-program', 'unzstd'], { env: { PATH: `${bin}:/usr/bin:/bin`, HELD: held, LOG: log } });
      assert.ok(!existsSync(download));
    }
    const seen = readFileSync(log, 'utf8').split('--\n').slice(0, -1);
    assert.ok(seen.length >= 2);
    assert.ok(!seen[0]!.split('\n').some((name) => name.startsWith('archive.')), `nothing under archive.* while the first archive is moved in (held held: ${seen[0]})`);
    const names = readdirSync(held).sort();
    assert.equal(names.length, 2);
    assert.ok(names.every((name) => /^archive\.[A-Za-z0-9]{8}$/.test(name)), names.join(' '));
    assert.deepEqual(names.map((name) => readFileSync(join(held, name), 'utf8')).sort(), ['first archive', 'second archive']);
  });

  test('a real archive of createTar (zstd, gzip) extracts to the same tree', async () => {
    const { createTar } = await tarModule();
    for (const method of ['zstd-without-long', 'gzip']) {
      const workspace = fresh('ws');
      const dir = join(workspace, 'sub', 'cache');
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
      writeFileSync(join(dir, 'index.json'), '{}');
      writeFileSync(join(dir, 'blobs', 'sha256', 'aa'), Buffer.alloc(70_000, 1));
      const folder = fresh('folder');
      const saved = process.env.GITHUB_WORKSPACE;
      process.env.GITHUB_WORKSPACE = workspace;
      try {
        await createTar(folder, ['sub/cache'], method);
      } finally {
        if (saved === undefined) delete process.env.GITHUB_WORKSPACE;
        else process.env.GITHUB_WORKSPACE = saved;
      }
      const into = fresh('into');
      const archive = join(folder, method === 'gzip' ? 'cache.tgz' : 'cache.tzst');
      const { members } = await extractCacheArchive(archive, 'sub/cache', into);
      assert.equal(members, 5, method);
      assert.equal(readFileSync(join(into, 'index.json'), 'utf8'), '{}');
      assert.deepEqual(readFileSync(join(into, 'blobs', 'sha256', 'aa')), Buffer.alloc(70_000, 1));
    }
  });
});

describe('hashing while extracting (issue 20: the shard check reads nothing again)', () => {
  test('with digests, every file written comes back with the size and SHA-256 of the bytes written, empty files too', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const stage = fresh('stage');
    mkdirSync(join(stage, 'nar'));
    writeFileSync(join(stage, 'nar', 'big.nar.zst'), big);
    writeFileSync(join(stage, 'empty.narinfo'), '');
    writeFileSync(join(stage, 'nix-cache-info'), 'StoreDir: /nix/store\n');
    const archive = gnuTar(stage, ['.'], [`s|^\\.|${PREFIX}|`]);
    const into = fresh('into');
    const { files } = await extractCacheArchive(archive, PREFIX, into, CACHE_LIMITS, { digests: true });
    assert.ok(files, 'digests are handed back');
    const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
    assert.deepEqual(Object.fromEntries(files), {
      'nar/big.nar.zst': { size: big.length, sha256: sha(big) },
      'empty.narinfo': { size: 0, sha256: sha('') },
      'nix-cache-info': { size: 21, sha256: sha('StoreDir: /nix/store\n') },
    });
    for (const [path, written] of files) assert.equal(sha(readFileSync(join(into, path))), written.sha256, `${path} on disk is what was hashed`);
    assert.equal((await extractCacheArchive(archive, PREFIX, fresh('into'))).files, undefined, 'no hashing unless asked (the BuildKit caches)');
  });
});

describe('hostile archives are refused', () => {
  for (const kind of HOSTILE_MEMBERS) {
    test(`a ${kind} member`, async () => {
      const workspace = fresh('ws');
      const victim = fresh('victim');
      const dir = join(workspace, PREFIX);
      const archive = hostileCacheArchive(kind, { workspace, dir, victim, work });
      const into = await refused(archive, /outside the cache directory|'\.\.' component|is a symlink/);
      assert.deepEqual(readdirSync(victim), []);
      assert.ok(!readdirSync(into).includes('link'));
    });
  }

  test('a hard link, a character device, a fifo', async () => {
    const stage = stageWith({ 'root/a': 'a' });
    linkSync(join(stage, 'root', 'a'), join(stage, 'root', 'b'));
    await refused(gnuTar(stage, ['root'], [`s,^root,${PREFIX},`]), /member .*\/[ab] is a hardlink/);
    await refused(gnuTar(stageWith({ 'root/x': '' }), ['root', '/dev/null'], [`s,^root,${PREFIX},`, `s,^/dev/null$,${PREFIX}/null,`]), /member .*\/null is a char/);
    const fifo = stageWith({ 'root/x': '' });
    execFileSync('mkfifo', [join(fifo, 'root', 'pipe')]);
    await refused(gnuTar(fifo, ['root'], [`s,^root,${PREFIX},`]), /member .*\/pipe is a fifo/);
  });

  test('a sparse file (its body is a map, not the data), a duplicate member, a file as the directory itself', async () => {
    const stage = stageWith({ 'root/x': '' });
    execFileSync('truncate', ['-s', '1M', join(stage, 'root', 'sparse')]);
    await refused(gnuTar(stage, ['root'], [`s,^root,${PREFIX},`], 'zstd', ['--sparse']), /carries the pax record GNU.sparse/);
    // Appended by a second tar run: one run would store the repeat as a hard link.
    const twice = stageWith({ 'root/x': 'x' });
    const tarFile = gnuTar(twice, ['root'], [`s,^root,${PREFIX},`], 'none');
    execFileSync('tar', ['--posix', '-C', twice, '-rf', tarFile, '--transform', `s,^root,${PREFIX},`, 'root/x']);
    execFileSync('gzip', ['-q', tarFile]);
    await refused(`${tarFile}.gz`, /appears twice/);
    const file = stageWith({ root: 'x' });
    await refused(gnuTar(file, ['root'], [`s,^root,${PREFIX},`]), /the cache directory itself is a file/);
  });

  test('names: a sibling of the prefix, control characters, workflow commands, non-ASCII, an over-long component', () => {
    assert.throws(() => memberPath(`${PREFIX}-evil/x`, PREFIX), /outside the cache directory/);
    assert.throws(() => memberPath(`${PREFIX}/a\nb`, PREFIX), /character outside/);
    assert.throws(() => memberPath(`${PREFIX}/##[set-output name=digest]sha256:0`, PREFIX), /character outside/);
    assert.throws(() => memberPath(`${PREFIX}/caf\u00e9`, PREFIX), /character outside/);
    assert.equal(memberPath(`${PREFIX}/realisations/sha256:ab!out.doi`, PREFIX), 'realisations/sha256:ab!out.doi');
    assert.throws(() => memberPath(`${PREFIX}/${'a'.repeat(256)}`, PREFIX), /component over 255 bytes/);
    assert.throws(() => memberPath(`${PREFIX}/${'a/'.repeat(2100)}`, PREFIX), /member name of \d+ bytes/);
    assert.equal(memberPath(`${PREFIX}/`, PREFIX), '');
    assert.equal(memberPath(`${PREFIX}/nar/x.nar.zst`, PREFIX), 'nar/x.nar.zst');
    // Refusals are logged: a name cannot carry a workflow command into the log.
    const error = (() => {
      try {
        memberPath('/x/##[save-state name=local-cache]{"dir":"/"}::warning::', PREFIX);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    assert.match(error, /outside the cache directory/);
    assert.doesNotMatch(error, /##\[|::/);
  });

  test('more members than the limit, more bytes than the limit: refused while reading, in bounded memory', async () => {
    const stage = stageWith(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`root/f${i}`, 'xxxxxxxx'])));
    const archive = gnuTar(stage, ['root'], [`s,^root,${PREFIX},`], 'gzip');
    await refused(archive, /more than 10 members/, { ...CACHE_LIMITS, members: 10 });
    await refused(archive, /more than 40 bytes of files/, { ...CACHE_LIMITS, totalBytes: 40 });
  });

  test('an archive that is not zstd or gzip, a truncated one, a corrupt header', async () => {
    const stage = stageWith({ 'root/f': 'x'.repeat(5000) });
    const plain = gnuTar(stage, ['root'], [`s,^root,${PREFIX},`], 'none');
    await refused(plain, /neither zstd nor gzip/);
    const whole = readFileSync(plain);
    const cut = join(work, 'cut.tar');
    writeFileSync(cut, whole.subarray(0, 2048));
    execFileSync('gzip', ['-q', cut]);
    await refused(`${cut}.gz`, /truncated/);
    const corrupt = Buffer.from(whole);
    corrupt[100] = corrupt[100]! ^ 0x07; // the first header's mode: its checksum no longer holds
    const bad = join(work, 'bad.tar');
    writeFileSync(bad, corrupt);
    execFileSync('gzip', ['-q', bad]);
    await refused(`${bad}.gz`, /checksum/);
  });
});

describe('checkPlainTree (after extraction, and on a local entry)', () => {
  test('refuses a symlink, a hard link, a set-id bit; counts a plain tree', () => {
    const plain = stageWith({ 'a/b': '1', c: '2' });
    assert.equal(checkPlainTree(plain), 3);
    const link = stageWith({ a: '1' });
    symlinkSync('/etc', join(link, 'etc'));
    assert.throws(() => checkPlainTree(link), /etc is not a regular file or directory/);
    const hard = stageWith({ a: '1' });
    linkSync(join(hard, 'a'), join(hard, 'b'));
    assert.throws(() => checkPlainTree(hard), /is a hard link/);
    const setuid = stageWith({ a: '1' });
    chmodSync(join(setuid, 'a'), 0o4755);
    assert.equal(statSync(join(setuid, 'a')).mode & 0o4000, 0o4000);
    assert.throws(() => checkPlainTree(setuid), /set-id or sticky/);
  });
});
