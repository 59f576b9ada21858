// The engine's parts on their own: first-difference order, the lockstep/by-name entry matching,
// config field naming, the ELF build-id reader, the tar header index.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compareEntryStreams, firstDifference, listSource, SummaryQueue, type FileDifference } from '../../src/reproducibility/file-compare.js';
import { diffConfig } from '../../src/reproducibility/json-diff.js';
import { findBuildId } from '../../src/reproducibility/layer-walk.js';
import { indexTar } from '../../src/oci/tar-index.js';
import type { FileSummary } from '../../src/reproducibility/types.js';
import { BUSYBOX } from '../support/workspace.js';
import { requireTools, run, scratch } from '../fixtures/reproducibility/make-image.js';
import { elfSection, makeZip } from '../fixtures/reproducibility/artifacts.js';
import { shareOut } from '../../src/reproducibility/collector.js';
import { ElfProbe } from '../../src/reproducibility/elf.js';
import { parseManifest } from '../../src/reproducibility/manifests.js';
import { compareZip, dosTime, parseCentralDirectory, ZipProbe } from '../../src/reproducibility/zip.js';
import type { ZipSummary } from '../../src/reproducibility/types.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const file = (path: string, over: Partial<FileSummary> = {}): FileSummary => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 3,
  sha256: 'a'.repeat(64),
  mtime: 100,
  linkname: '',
  ...over,
});

test('the first differing field wins, in the documented order', () => {
  const base = file('x');
  assert.equal(firstDifference(base, { ...base }), undefined);
  assert.equal(firstDifference(base, file('x', { type: 'directory', mode: 0o755 }))!.kind, 'type');
  assert.equal(firstDifference(file('l', { type: 'symlink', linkname: 'a' }), file('l', { type: 'symlink', linkname: 'b', mode: 1 }))!.kind, 'link-target');
  assert.deepEqual(firstDifference(base, file('x', { mode: 0o755, uid: 5 })), { kind: 'mode', field: 'mode', a: '0644', b: '0755' });
  assert.deepEqual(firstDifference(base, file('x', { gid: 7, size: 9 })), { kind: 'uid-gid', field: 'uid/gid', a: '0:0', b: '0:7' });
  assert.equal(firstDifference(base, file('x', { size: 4, sha256: 'b'.repeat(64) }))!.kind, 'size');
  assert.equal(firstDifference(base, file('x', { sha256: 'b'.repeat(64), mtime: 5 }))!.kind, 'content');
  assert.deepEqual(firstDifference(base, file('x', { mtime: 5 })), { kind: 'mtime', field: 'mtime', a: 100, b: 5 });
  assert.equal(firstDifference(base, file('x', { pax: 'SCHILY.xattr.user.x=1' }))!.kind, 'pax');
  const pyc = (sha: string, mtime: number, masked: string): FileSummary => file('m.pyc', { sha256: sha, pyc: { mtime, maskedSha256: masked } });
  assert.equal(firstDifference(pyc('1', 1, 'm'), pyc('2', 2, 'm'))!.kind, 'pyc-timestamp');
  assert.equal(firstDifference(pyc('1', 1, 'm'), pyc('2', 1, 'n'))!.kind, 'pyc-content');
  const elf = (sha: string, id: string, masked: string): FileSummary => file('bin', { sha256: sha, elf: { buildId: id, maskedSha256: masked } });
  assert.deepEqual(firstDifference(elf('1', 'aa', 'm'), elf('2', 'bb', 'm')), { kind: 'elf-build-id', field: 'content (ELF build ID)', a: 'aa', b: 'bb', detail: 'build ID aa → bb (.note.gnu.build-id)' });
  assert.equal(firstDifference(elf('1', 'aa', 'm'), elf('2', 'bb', 'n'))!.kind, 'elf-sections');
});

async function match(a: string[], b: string[]): Promise<{ result: Awaited<ReturnType<typeof compareEntryStreams>>; diffs: Array<[string, FileDifference]> }> {
  const diffs: Array<[string, FileDifference]> = [];
  const result = await compareEntryStreams(listSource(a.map((p) => file(p))), listSource(b.map((p) => file(p))), (path, d) => diffs.push([path, d]));
  return { result, diffs };
}

test('entry matching: lockstep, reordering, insertions and deletions', async () => {
  const same = await match(['a', 'b', 'c'], ['a', 'b', 'c']);
  assert.deepEqual(same.result, { compared: 3, differing: 0, onlyInA: 0, onlyInB: 0 });

  const swapped = await match(['a', 'b', 'c', 'd'], ['a', 'c', 'b', 'd']);
  assert.equal(swapped.result.compared, 4);
  assert.ok(swapped.result.orderDiffers);
  assert.deepEqual(swapped.diffs, []);

  const reversed = await match(['a', 'b', 'c', 'd', 'e'], ['e', 'd', 'c', 'b', 'a']);
  assert.equal(reversed.result.compared, 5);
  assert.ok(reversed.result.orderDiffers);

  const inserted = await match(['a', 'b', 'c', 'd'], ['x', 'y', 'a', 'b', 'c', 'd']);
  assert.equal(inserted.result.orderDiffers, undefined, 'an insertion keeps the order');
  assert.deepEqual(inserted.diffs.map(([p, d]) => [p, d.kind]), [['x', 'only-in-b'], ['y', 'only-in-b']]);

  const deleted = await match(['a', 'b', 'gone', 'c'], ['a', 'b', 'c']);
  assert.equal(deleted.result.orderDiffers, undefined);
  assert.deepEqual(deleted.diffs.map(([p, d]) => [p, d.kind]), [['gone', 'only-in-a']]);

  const both = await match(['a', 'only-a', 'b'], ['a', 'only-b', 'b']);
  assert.deepEqual(both.diffs.map(([p, d]) => [p, d.kind]), [['only-a', 'only-in-a'], ['only-b', 'only-in-b']]);
  assert.equal(both.result.orderDiffers, undefined);
});

test('the entry queue applies backpressure and passes errors on', async () => {
  const queue = new SummaryQueue(4);
  const pushes = [0, 1, 2].map((i) => queue.push(file(`f${i}`)));
  assert.deepEqual(pushes, [undefined, undefined, undefined]);
  const blocked = queue.push(file('f3'));
  assert.ok(blocked instanceof Promise, 'full: the producer waits');
  let released = false;
  void blocked.then(() => (released = true));
  assert.equal((await queue.next())!.path, 'f0');
  assert.equal((await queue.next())!.path, 'f1');
  await new Promise((r) => setImmediate(r));
  assert.equal(released, false, 'still over half full');
  assert.equal((await queue.next())!.path, 'f2');
  await new Promise((r) => setImmediate(r));
  assert.equal(released, true);
  queue.close(new Error('walk failed'));
  await assert.rejects(queue.next(), /walk failed/);
  await assert.rejects(queue.push(file('late'))!, /walk failed/);
});

test('config differences are named per ENV variable, label, history entry', () => {
  const a = {
    created: '2024-01-01T00:00:00Z',
    architecture: 'amd64',
    config: { Env: ['PATH=/bin', 'A=1'], Labels: { x: '1', y: '2' }, Cmd: ['sh'], ExposedPorts: { '80/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: ['sha256:1'] },
    history: [{ created: 't1', created_by: 'RUN a' }],
  };
  const b = {
    created: '2024-01-02T00:00:00Z',
    architecture: 'arm64',
    config: { Env: ['PATH=/bin', 'A=2', 'B=3'], Labels: { x: '1' }, Cmd: ['bash'], ExposedPorts: { '80/tcp': {}, '443/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: ['sha256:2'] },
    history: [{ created: 't2', created_by: 'RUN b' }],
  };
  assert.deepEqual(
    diffConfig(a, b).map((d) => [d.field, d.kind, d.a, d.b]),
    [
      ['created', 'config-created', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'],
      ['architecture', 'config-field', 'amd64', 'arm64'],
      ['config.Env.A', 'config-field', '1', '2'],
      ['config.Env.B', 'config-field', null, '3'],
      ['config.Labels.y', 'config-field', '2', null],
      ['config.Cmd', 'config-field', '["sh"]', '["bash"]'],
      ['config.ExposedPorts.443/tcp', 'config-field', null, '{}'],
      ['history[0].created', 'history-created', 't1', 't2'],
      ['history[0].created_by', 'config-field', 'RUN a', 'RUN b'],
    ],
  );
});

test('the ELF build ID is found through PT_NOTE (busybox-static)', () => {
  const bytes = readFileSync(BUSYBOX);
  const note = findBuildId(bytes.subarray(0, 64 << 10))!;
  assert.ok(note);
  assert.equal(note.length, 20, 'a sha1 build id');
  // The note header in front of it: namesz 4, descsz 20, NT_GNU_BUILD_ID (3), "GNU\0".
  const header = bytes.subarray(note.offset - 16, note.offset);
  assert.deepEqual([header.readUInt32LE(0), header.readUInt32LE(4), header.readUInt32LE(8)], [4, 20, 3]);
  assert.equal(header.subarray(12).toString('latin1'), 'GNU\0');
  const noNote = Buffer.from(bytes.subarray(0, 64 << 10));
  noNote.fill(0, note.offset - 16, note.offset); // the note header: no longer a GNU build-id note
  assert.equal(findBuildId(noNote), undefined);
  assert.equal(findBuildId(Buffer.from('not an elf file at all, no no no no no no no no no no no no no no no')), undefined);
});

test('the tar index finds bodies by offset, with pax long names, GNU long names and links', async () => {
  requireTools('tar');
  const dir = scratch('tar-index-');
  dirs.push(dir);
  const long = `${'d'.repeat(120)}/${'f'.repeat(130)}.txt`;
  mkdirSync(join(dir, 'tree', 'd'.repeat(120)), { recursive: true });
  writeFileSync(join(dir, 'tree', long), 'long name body');
  writeFileSync(join(dir, 'tree', 'short'), Buffer.alloc(1500, 1));
  run('ln', ['-s', 'short', join(dir, 'tree', 'link')]);
  for (const format of ['posix', 'gnu']) {
    const path = join(dir, `${format}.tar`);
    run('tar', [`--format=${format}`, '--sort=name', '-cf', path, '-C', join(dir, 'tree'), '.']);
    const handle = await open(path, 'r');
    try {
      const { members, bytesRead } = await indexTar(handle, (await stat(path)).size);
      assert.ok(bytesRead < (await stat(path)).size, 'bodies are skipped');
      const entry = members.get(long)!;
      assert.ok(entry, `${format}: the long name is indexed`);
      const body = Buffer.alloc(entry.size);
      await handle.read(body, 0, entry.size, entry.offset);
      assert.equal(body.toString(), 'long name body');
      assert.equal(members.get('short')!.size, 1500);
      assert.equal(members.get('link')!.type, 'symlink');
      assert.equal(members.get('link')!.linkname, 'short');
    } finally {
      await handle.close();
    }
  }
});

test('zip archives written by python3: order, compression and times each named; the central directory read from the tail', () => {
  requireTools('python3');
  const dir = scratch('repro-zip-');
  dirs.push(dir);
  const members = Array.from({ length: 5 }, (_, i) => ({ name: `pkg/m${i}.py`, content: `value = ${i}\n`.repeat(40) }));
  const read = (name: string, spec: Parameters<typeof makeZip>[1]): ZipSummary => {
    const path = join(dir, name);
    makeZip(path, spec);
    const bytes = readFileSync(path);
    // Fed in small chunks to the probe: only the tail is kept.
    const probe = new ZipProbe();
    for (let i = 0; i < bytes.length; i += 100) probe.data(bytes.subarray(i, i + 100));
    return probe.finish()!;
  };
  const base = read('a.zip', { members });
  assert.deepEqual(base.members.map((m) => m[0]), members.map((m) => m.name));
  assert.equal(dosTime(base.members[0]![1]), '2024-01-01 00:00:00');
  assert.deepEqual(compareZip(base, read('same.zip', { members })), []);
  assert.deepEqual(compareZip(base, read('order.zip', { members: [...members].reverse() })).map((d) => [d.kind, d.a, d.b]), [['zip-order', 'pkg/m0.py', 'pkg/m4.py']]);
  const stored = compareZip(base, read('stored.zip', { members, compression: 'stored' }));
  assert.deepEqual(stored.map((d) => d.kind), ['zip-compression']);
  assert.match(stored[0]!.detail!, /^5 members with equal data compressed differently/);
  const content = compareZip(base, read('content.zip', { members: [...members.slice(0, 4), { name: 'pkg/new.py', content: '' }] }));
  assert.deepEqual(content.map((d) => d.kind), ['zip-content']);
  assert.match(content[0]!.detail!, /only in A: `pkg\/m4\.py`; only in B: `pkg\/new\.py`/);
  assert.equal(parseCentralDirectory(Buffer.from('not a zip at all, no end record here........'), 44), undefined);
});

test('the ELF probe reads the section table as it streams past: the same sections python3 finds', () => {
  requireTools('python3');
  const bytes = readFileSync(BUSYBOX);
  const probe = new ElfProbe(bytes.length);
  for (let i = 0; i < bytes.length; i += 7919) probe.data(bytes.subarray(i, i + 7919));
  const elf = probe.finish()!;
  const section = (name: string): [number, number] => {
    const s = elf.sections!.find((x) => x[0] === name)!;
    return [s[1], s[2]];
  };
  for (const name of ['.rodata', '.text']) assert.deepEqual(section(name), elfSection(BUSYBOX, name));
  const note = findBuildId(bytes.subarray(0, 64 << 10))!;
  assert.equal(elf.buildId, bytes.subarray(note.offset, note.offset + note.length).toString('hex'));
  assert.equal(elf.blocks!.length, Math.ceil(bytes.length / elf.blockSize!) * 16);
});

test('entries are shared out: rare causes keep all theirs, bulk ones an equal share of at least 25', () => {
  assert.equal(shareOut([1, 3, 5000], 1000), 996);
  assert.equal(shareOut([5000, 5000], 1000), 500);
  assert.equal(shareOut([1, 2], 1000), Number.POSITIVE_INFINITY);
  assert.equal(shareOut(Array.from({ length: 80 }, () => 5000), 1000), 25);
});

test('RECORD lines are read as CSV, relative to the directory that holds the .dist-info', () => {
  const m = parseManifest('usr/lib/python3.11/site-packages/vllm-0.6.dist-info/RECORD', 'record', 'vllm/_C.so,sha256=abc,12\n"vllm/a,b.py",sha256=def,3\n../../../bin/vllm,sha256=x,1\nvllm-0.6.dist-info/RECORD,,\n');
  assert.deepEqual(m.entries, [
    ['usr/lib/python3.11/site-packages/vllm/_C.so', 'sha256=abc'],
    ['usr/lib/python3.11/site-packages/vllm/a,b.py', 'sha256=def'],
    ['usr/bin/vllm', 'sha256=x'],
    ['usr/lib/python3.11/site-packages/vllm-0.6.dist-info/RECORD', ''],
  ]);
});

test('a date/time string that opens a read-only segment is found (.rodata often starts a page-aligned segment)', () => {
  // A minimal ELF64 file: the header, one PT_LOAD (read-only) at 0x1000 that starts with the string.
  const elf = (time: string): FileSummary['elf'] => {
    const bytes = Buffer.alloc(0x1100);
    bytes.writeUInt32BE(0x7f454c46, 0);
    bytes[4] = 2;
    bytes[5] = 1;
    bytes.writeBigUInt64LE(64n, 0x20);
    bytes.writeUInt16LE(56, 0x36);
    bytes.writeUInt16LE(1, 0x38);
    bytes.writeUInt32LE(1, 64); // PT_LOAD
    bytes.writeUInt32LE(4, 68); // PF_R
    bytes.writeBigUInt64LE(0x1000n, 72);
    bytes.writeBigUInt64LE(0x100n, 96);
    bytes.write(`Dec  1 2026 ${time}`, 0x1000, 'latin1');
    const probe = new ElfProbe(bytes.length);
    probe.data(bytes.subarray(0, 0x1000));
    probe.data(bytes.subarray(0x1000));
    return probe.finish();
  };
  const a = elf('10:22:01')!;
  assert.deepEqual(a.times, [[0x1000, 'Dec  1 2026 10:22:01']]);
  const d = firstDifference(file('lib.so', { sha256: '1', elf: a }), file('lib.so', { sha256: '2', elf: elf('10:25:13') }))!;
  assert.deepEqual([d.kind, d.a, d.b], ['elf-build-time', 'Dec  1 2026 10:22:01', 'Dec  1 2026 10:25:13']);
});
