// BENCH_PAYLOAD=vllm: a pair of images shaped like two unpinned builds of a vLLM image, made of
// real files from this machine:
//   layer 0  real ELF libraries and binaries (/usr/lib/x86_64-linux-gnu, /usr/bin): equal;
//   layer 1  site-packages: 104 packages of .py files and real .pyc files (this machine's
//            python3 caches); B's .pyc headers all record another source mtime;
//   layer 2  vllm: three real shared libraries "rebuilt" in B (another build ID, another
//            __DATE__/__TIME__ string in .rodata), their dist-info RECORD (which hashes them),
//            and a wheel of ~600 members written by python3's zipfile, B's with other member times;
// and config.created. The planted differences are returned so the bench can check that the
// report names each of them.
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findBuildId } from '../src/reproducibility/elf.js';
import { elfSection, makeZip, recordLine, stringSlot } from '../test/fixtures/reproducibility/artifacts.js';

export interface PayloadFile {
  name: string;
  bytes?: Buffer;
  /** Read from this path when written (keeps the big base layer out of memory). */
  from?: string;
  size: number;
  mode: number;
}

export interface VllmPayload {
  layersA: PayloadFile[][];
  layersB: PayloadFile[][];
  planted: { pyc: number; sharedObjects: string[]; record: string; wheel: string; wheelMembers: number };
}

const SITE = 'usr/lib/python3.11/site-packages';

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.readUInt32BE(0) === 0x7f454c46;
  } finally {
    closeSync(fd);
  }
}

/** Regular files under `dirs` (no symlinks), sorted, that pass `keep`. */
function filesUnder(dirs: string[], keep: (path: string, size: number) => boolean): Array<{ path: string; size: number }> {
  const out: Array<{ path: string; size: number }> = [];
  const visit = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const info = lstatSync(path, { throwIfNoEntry: false });
      if (!info) continue;
      if (info.isDirectory()) visit(path);
      else if (info.isFile() && keep(path, info.size)) out.push({ path, size: info.size });
    }
  };
  for (const d of dirs) visit(d);
  return out;
}

/** A copy of a real library as rebuilt elsewhere: another build ID and another build time in .rodata. */
function rebuilt(path: string, build: number): { a: Buffer; b: Buffer } | undefined {
  let rodata: [number, number];
  try {
    rodata = elfSection(path, '.rodata');
  } catch {
    return undefined;
  }
  const original = readFileSync(path);
  const note = findBuildId(original.subarray(0, 64 << 10));
  if (!note) return undefined;
  let slot: number;
  try {
    slot = stringSlot(original, rodata, 24);
  } catch {
    return undefined;
  }
  const variant = (time: string, id?: number): Buffer => {
    const bytes = Buffer.from(original);
    bytes.fill(0, slot, slot + 24);
    bytes.write(`Dec  1 2026 ${time}`, slot, 'latin1');
    if (id !== undefined) bytes.fill(id, note.offset, note.offset + note.length);
    return bytes;
  };
  return { a: variant(`10:2${build}:01`), b: variant(`11:4${build}:59`, 0xa0 + build) };
}

export function vllmPayload(totalBytes: number, scratch: string): VllmPayload {
  // Layer 0: real ELF files, about 40 % of the total.
  const base: PayloadFile[] = [];
  let baseBytes = 0;
  for (const f of filesUnder(['/usr/lib/x86_64-linux-gnu', '/usr/bin'], (p, size) => size > 0 && size < 64 << 20 && isElf(p))) {
    if (baseBytes > totalBytes * 0.4) break;
    const name = f.path.slice(1);
    if (Buffer.byteLength(name) > 250) continue;
    base.push({ name, from: f.path, size: f.size, mode: 0o755 });
    baseBytes += f.size;
  }

  // Layer 1: 104 packages, .py sources and this machine's real .pyc files.
  const pycs = filesUnder(['/usr/lib/python3.11', '/usr/lib/python3/dist-packages'], (p) => p.endsWith('.pyc'));
  const sources = filesUnder(['/usr/lib/python3.11'], (p, size) => p.endsWith('.py') && size < 256 << 10).slice(0, 2000);
  if (pycs.length === 0 || sources.length === 0) throw new Error('no .pyc/.py files under /usr/lib/python3.11 (install python3)');
  const site = (shift: number): PayloadFile[] => {
    const out: PayloadFile[] = [];
    let n = 0;
    for (let p = 0; p < 104; p++) {
      const pkg = `${SITE}/pkg_${String(p).padStart(3, '0')}`;
      for (let m = 0; m < 58; m++, n++) {
        const src = sources[n % sources.length]!;
        const pyc = Buffer.from(readFileSync(pycs[n % pycs.length]!.path));
        if (pyc.length >= 16 && pyc.readUInt32LE(4) === 0) pyc.writeUInt32LE(pyc.readUInt32LE(8) + shift, 8);
        out.push({ name: `${pkg}/m${m}.py`, from: src.path, size: src.size, mode: 0o644 });
        out.push({ name: `${pkg}/__pycache__/m${m}.cpython-311.pyc`, bytes: pyc, size: pyc.length, mode: 0o644 });
      }
    }
    return out;
  };
  const siteA = site(0);
  const siteB = site(86400);
  const pyc = siteB.filter((f, i) => f.name.endsWith('.pyc') && !f.bytes!.equals(siteA[i]!.bytes!)).length;

  // Layer 2: vllm's rebuilt extensions, its RECORD, and a wheel.
  const libs = filesUnder(['/usr/lib/x86_64-linux-gnu'], (p, size) => /\.so[.0-9]*$/.test(p) && size > (1 << 20) && size < (12 << 20) && isElf(p));
  const names = ['_C.abi3.so', '_moe_C.abi3.so', '_rocm_C.abi3.so'];
  const so: Array<{ name: string; a: Buffer; b: Buffer }> = [];
  for (const lib of libs) {
    const made = rebuilt(lib.path, so.length + 1);
    if (made) so.push({ name: `vllm/${names[so.length]}`, ...made });
    if (so.length === names.length) break;
  }
  if (so.length < names.length) throw new Error('not enough ELF libraries with a build ID and .rodata strings under /usr/lib/x86_64-linux-gnu');
  const py = sources.slice(0, 40).map((s, i) => ({ name: `vllm/mod_${i}.py`, bytes: readFileSync(s.path) }));
  const vllm = (side: 'a' | 'b'): PayloadFile[] => {
    const files = [...so.map((s) => ({ name: s.name, bytes: s[side] })), ...py];
    const record = [...files.map((f) => recordLine(f.name, f.bytes)), 'vllm-0.6.3.dist-info/RECORD,,', ''].join('\n');
    return [...files, { name: 'vllm-0.6.3.dist-info/RECORD', bytes: Buffer.from(record) }].map((f) => ({ name: `${SITE}/${f.name}`, bytes: f.bytes, size: f.bytes.length, mode: f.name.endsWith('.so') ? 0o755 : 0o644 }));
  };
  const members = sources.slice(0, 597).map((s, i) => ({ name: `vllm/${String(i).padStart(3, '0')}_${s.path.split('/').pop()}`, content: readFileSync(s.path, 'latin1') }));
  const wheel = (dateTime: [number, number, number, number, number, number]): Buffer => {
    const path = join(scratch, `wheel-${dateTime.join('-')}.whl`);
    makeZip(path, { members, dateTime });
    const bytes = readFileSync(path);
    rmSync(path);
    return bytes;
  };
  const wheelName = 'opt/wheels/vllm-0.6.3-cp311-cp311-linux_x86_64.whl';
  const wheelA = wheel([2024, 1, 1, 0, 0, 0]);
  const wheelB = wheel([2026, 12, 1, 10, 22, 4]);
  const layer2 = (side: 'a' | 'b', w: Buffer): PayloadFile[] => [...vllm(side), { name: wheelName, bytes: w, size: w.length, mode: 0o644 }];

  return {
    layersA: [base, siteA, layer2('a', wheelA)],
    layersB: [base, siteB, layer2('b', wheelB)],
    planted: {
      pyc,
      sharedObjects: so.map((s) => `${SITE}/${s.name}`),
      record: `${SITE}/vllm-0.6.3.dist-info/RECORD`,
      wheel: wheelName,
      wheelMembers: members.length,
    },
  };
}
