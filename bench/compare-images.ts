// Benchmark of the reproducibility comparison engine (not a test): generates a pair of multi-GB
// OCI image archives, then times side by side
//   1. the engine (lib/src/reproducibility/cli.js) on the differing pair, vs diffoscope, vs
//      `openssl sha256` over the same bytes;
//   2. the engine on two identical archives ("reproducible", every blob verified) vs
//      `openssl sha256` of both files;
// and reports seconds, ratios and the engine's peak RSS (from /usr/bin/time -v).
//
//   npx tsc -p tsconfig.json && BENCH_GB=2 node24 lib/bench/compare-images.js
//
// Environment: BENCH_GB (size of each archive, default 2), BENCH_LAYERS (default 8),
// BENCH_MTIME_FILES (files of B's last layer with another mtime: up to 3, or 'all'),
// BENCH_DIR (scratch directory, default $TMPDIR/bench-reproducibility), BENCH_DIFFOSCOPE_TIMEOUT
// (seconds, default 900), BENCH_SKIP_DIFFOSCOPE=1, BENCH_KEEP=1 (keep the archives).
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { vllmPayload, type PayloadFile, type VllmPayload } from './vllm-payload.js';

const GB = Number(process.env.BENCH_GB ?? '2');
const LAYERS = Math.max(3, Number(process.env.BENCH_LAYERS ?? '8'));
const DIR = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'bench-reproducibility'));
const DIFFOSCOPE_TIMEOUT = Number(process.env.BENCH_DIFFOSCOPE_TIMEOUT ?? '900');
const SKIP_DIFFOSCOPE = process.env.BENCH_SKIP_DIFFOSCOPE === '1';
const KEEP = process.env.BENCH_KEEP === '1';
// How many files of image B's last layer get another mtime: a number, or 'all' (that layer built
// without rewrite-timestamp, as a whole RUN step's output would be).
const MTIME_FILES: number[] | 'all' = process.env.BENCH_MTIME_FILES === 'all' ? 'all' : [5, 17, 29].slice(0, Number(process.env.BENCH_MTIME_FILES ?? '3'));
// 'python': layers shaped like a vLLM image's site-packages (many small .py and .pyc files, some
// .so), and B rebuilt the way an unpinned rebuild differs: every .pyc header carries another
// timestamp in B's last two layers. Default 'synthetic': the mix described below.
// 'vllm': real files shaped like two builds of a vLLM image (see vllm-payload.ts).
const PAYLOAD = process.env.BENCH_PAYLOAD === 'python' || process.env.BENCH_PAYLOAD === 'vllm' ? process.env.BENCH_PAYLOAD : 'synthetic';
// BENCH_DIFFOSCOPE_AS_IS=0 skips the runs of diffoscope on the archives as they are.
const DIFFOSCOPE_AS_IS = process.env.BENCH_DIFFOSCOPE_AS_IS !== '0';
const NODE = process.execPath;
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'reproducibility', 'cli.js');
const EPOCH = 1700000000;
/** Compressed size ≈ 0.78 × uncompressed for this content (half random, half 4-bit "text"). */
const COMPRESSED_RATIO = 0.78;

// ---------------------------------------------------------------------------------------------
// Content: AES-128-CTR keystreams (OpenSSL, GB/s) keyed by a seed; "text" files keep 4 bits of
// entropy per byte so that gzip has something to do, "binary" files are incompressible.

const ZEROS = Buffer.alloc(1 << 20);

function* content(seed: string, size: number, text: boolean): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  for (let left = size; left > 0; ) {
    const n = Math.min(left, ZEROS.length);
    let chunk = cipher.update(n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n));
    if (text) {
      if (chunk.byteOffset % 4 !== 0) chunk = Buffer.from(chunk);
      const words = new Uint32Array(chunk.buffer, chunk.byteOffset, Math.floor(n / 4));
      for (let i = 0; i < words.length; i++) words[i] = (words[i]! & 0x0f0f0f0f) | 0x60606060;
    }
    left -= n;
    yield chunk;
  }
}

/** mulberry32: the deterministic file-size sequence of a layer. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// A minimal ustar writer.

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(name: string, size: number, opts: { mode?: number; mtime?: number; type?: '0' | '5' } = {}): Buffer {
  const h = Buffer.alloc(512);
  // ustar: names over 100 bytes are split at a '/' into a prefix (155) and a name (100).
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    for (let at = cut; at > 0; at = name.lastIndexOf('/', at - 1)) {
      if (Buffer.byteLength(name.slice(at + 1)) <= 100 && Buffer.byteLength(name.slice(0, at)) <= 155) {
        prefix = name.slice(0, at);
        name = name.slice(at + 1);
        break;
      }
    }
    if (!prefix) throw new Error(`name too long for this writer: ${name}`);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(prefix, 345, 155, 'utf8');
  h.write(octal(opts.mode ?? 0o644, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(opts.mtime ?? EPOCH, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(opts.type ?? '0', 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

const pad = (size: number): Buffer => ZEROS.subarray(0, (512 - (size % 512)) % 512);

// ---------------------------------------------------------------------------------------------
// Layers and images.

interface Variant {
  /** Files whose content differs (by index in the layer). */
  content: number[];
  /** Files whose mtime differs; 'all': every file of the layer (a RUN step built without rewrite-timestamp). */
  mtime: number[] | 'all';
  /** python payload: every .pyc of the layer records another source timestamp. */
  pycTime?: boolean;
}

interface Blob {
  path: string;
  digest: string;
  size: number;
  diffId?: string;
}

function* layerEntries(layer: number, bytes: number, variant: Variant, counts: { files: number }): Generator<Buffer> {
  const random = prng(1000 + layer);
  const dir = PAYLOAD === 'python' ? `usr/lib/python3.11/site-packages/pkg${String(layer).padStart(2, '0')}` : `usr/lib/pkg-${String(layer).padStart(2, '0')}`;
  const parents = dir.split('/').map((_, i, all) => `${all.slice(0, i + 1).join('/')}/`);
  if (PAYLOAD === 'python') parents.push(`${dir}/__pycache__/`);
  for (const d of parents) yield tarHeader(d, 0, { mode: 0o755, type: '5' });
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const f = PAYLOAD === 'python' ? pythonFile(random, i) : syntheticFile(random, i);
    const name = `${dir}/${f.name}`;
    const seed = `layer ${layer} file ${i}${variant.content.includes(i) ? ' variant' : ''}`;
    const newer = variant.mtime === 'all' || variant.mtime.includes(i);
    yield tarHeader(name, f.size, { mtime: newer ? EPOCH + 86400 : EPOCH, mode: f.mode });
    if (f.kind === 'pyc') {
      // Python 3.11's header: magic, flags, source mtime, source size; then the code object.
      const header = Buffer.alloc(16);
      header.writeUInt32LE(0x0a0d0da7, 0);
      header.writeUInt32LE(variant.pycTime ? EPOCH + 86400 : EPOCH, 8);
      header.writeUInt32LE(f.size * 3, 12);
      yield header;
      yield* content(seed, f.size - 16, false);
    } else {
      yield* content(seed, f.size, f.kind === 'text');
    }
    yield pad(f.size);
    written += 512 + f.size + pad(f.size).length;
    counts.files++;
  }
  yield Buffer.alloc(1024);
}

interface FileShape {
  name: string;
  size: number;
  mode: number;
  kind: 'text' | 'binary' | 'pyc';
}

/** 93 % small files (1–32 KiB), 7 % large ones (0.25–8 MiB), half "text", half "binary". */
function syntheticFile(random: () => number, i: number): FileShape {
  const size = random() < 0.93 ? 1024 + Math.floor(random() * 31 * 1024) : (256 << 10) + Math.floor(random() * (8 << 20));
  const text = random() < 0.5;
  return { name: `${text ? 'share' : 'bin'}-${String(i).padStart(6, '0')}.${text ? 'txt' : 'so'}`, size, mode: text ? 0o644 : 0o755, kind: text ? 'text' : 'binary' };
}

/** site-packages: .py sources and their .pyc (0.5–16 KiB), 4 % shared objects (0.25–8 MiB). */
function pythonFile(random: () => number, i: number): FileShape {
  const module = `mod_${String(Math.floor(i / 2)).padStart(6, '0')}`;
  if (random() < 0.04) return { name: `_ext_${String(i).padStart(6, '0')}.cpython-311-x86_64-linux-gnu.so`, size: (256 << 10) + Math.floor(random() * (8 << 20)), mode: 0o755, kind: 'binary' };
  const size = 512 + Math.floor(random() * 15.5 * 1024);
  return i % 2 === 0
    ? { name: `${module}.py`, size, mode: 0o644, kind: 'text' }
    : { name: `__pycache__/${module}.cpython-311.pyc`, size: Math.max(size, 64), mode: 0o644, kind: 'pyc' };
}

function hashing(hash: Hash, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

async function writeLayer(path: string, layer: number, bytes: number, variant: Variant): Promise<Blob & { files: number; uncompressed: number }> {
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  const raw = { bytes: 0 };
  const out = { bytes: 0 };
  const counts = { files: 0 };
  await pipeline(Readable.from(layerEntries(layer, bytes, variant, counts)), hashing(diff, raw), createGzip({ level: 1, chunkSize: 1 << 20 }), hashing(blob, out), createWriteStream(path));
  return { path, digest: `sha256:${blob.digest('hex')}`, diffId: `sha256:${diff.digest('hex')}`, size: out.bytes, files: counts.files, uncompressed: raw.bytes };
}

/** A layer of the vllm payload: the given files (and their parent directories), sorted. */
async function writePayloadLayer(path: string, files: PayloadFile[]): Promise<Blob & { files: number; uncompressed: number }> {
  async function* entries(): AsyncGenerator<Buffer> {
    const dirs = new Set<string>();
    for (const f of files) {
      const parts = f.name.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
    }
    const all = [...[...dirs].map((d) => ({ name: d, dir: true as const })), ...files.map((f) => ({ name: f.name, file: f }))].sort((x, y) => (x.name < y.name ? -1 : 1));
    for (const e of all) {
      if ('dir' in e) {
        yield tarHeader(e.name, 0, { mode: 0o755, type: '5' });
        continue;
      }
      const f = e.file;
      yield tarHeader(f.name, f.size, { mode: f.mode });
      if (f.bytes) yield f.bytes;
      else for await (const chunk of createReadStream(f.from!, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
      yield pad(f.size);
    }
    yield Buffer.alloc(1024);
  }
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  const raw = { bytes: 0 };
  const out = { bytes: 0 };
  await pipeline(Readable.from(entries()), hashing(diff, raw), createGzip({ level: 1, chunkSize: 1 << 20 }), hashing(blob, out), createWriteStream(path));
  return { path, digest: `sha256:${blob.digest('hex')}`, diffId: `sha256:${diff.digest('hex')}`, size: out.bytes, files: files.length, uncompressed: raw.bytes };
}

function jsonBlob(dir: string, value: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const path = join(dir, digest.slice(7));
  writeFileSync(path, bytes);
  return { path, digest, size: bytes.length };
}

/** Writes the OCI archive (oci-layout, index.json, then the blobs, copied in); returns the config blob. */
async function writeArchive(path: string, blobsDir: string, layers: Blob[], created: string): Promise<Blob> {
  const config = jsonBlob(blobsDir, {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'], Labels: { 'org.opencontainers.image.title': 'bench' } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created, created_by: `bench layer ${i}` })),
  });
  const manifest = jsonBlob(blobsDir, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  });
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.size, platform: { architecture: 'amd64', os: 'linux' } }],
    }),
  );
  const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  async function* members(): AsyncGenerator<Buffer> {
    for (const [name, bytes] of [['oci-layout', layout], ['index.json', index]] as const) {
      yield tarHeader(name, bytes.length);
      yield bytes;
      yield pad(bytes.length);
    }
    yield tarHeader('blobs/', 0, { mode: 0o755, type: '5' });
    yield tarHeader('blobs/sha256/', 0, { mode: 0o755, type: '5' });
    for (const blob of [manifest, config, ...layers]) {
      yield tarHeader(`blobs/sha256/${blob.digest.slice(7)}`, blob.size, { mode: 0o444 });
      for await (const chunk of createReadStream(blob.path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
      yield pad(blob.size);
    }
    yield Buffer.alloc(1024);
  }
  await pipeline(Readable.from(members()), createWriteStream(path));
  return config;
}

// ---------------------------------------------------------------------------------------------
// Timing.

interface Timed {
  seconds: number;
  status: number | null;
  timedOut: boolean;
  maxRssKiB?: number;
  stdout: string;
  stderr: string;
}

function timed(command: string, args: string[], timeoutSeconds = 0): Promise<Timed> {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    // Its own process group, so that a timeout stops the measured command and its children.
    const child = spawn('/usr/bin/time', ['-v', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes < 1 << 20) out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = timeoutSeconds > 0 ? setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutSeconds * 1000) : undefined;
    child.on('error', fail);
    child.on('close', (status) => {
      if (timer) clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const stderr = Buffer.concat(err).toString('utf8');
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      done({ seconds, status, timedOut, maxRssKiB: rss ? Number(rss[1]) : undefined, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
  });
}

function warm(...paths: string[]): void {
  // Every run reads from the page cache (the machine has the RAM): the comparison is of CPU work.
  for (const p of paths) spawnSync('sh', ['-c', `cat "${p}" > /dev/null`]);
}

const fmt = (s: number): string => s.toFixed(2);
const mb = (n: number): string => (n / 1e6).toFixed(0);

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npx tsc -p tsconfig.json first`);
  for (const tool of ['openssl', ...(SKIP_DIFFOSCOPE ? [] : ['diffoscope'])]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (apt-get install -y ${tool})`);
  }
  mkdirSync(DIR, { recursive: true });
  const free = statfsSync(DIR);
  const freeGB = (free.bavail * free.bsize) / 1e9;
  // Layer blobs + 3 archives, and diffoscope's unpacked layers (about 1.3× a layer pair each).
  const needGB = GB * 4.5 + (SKIP_DIFFOSCOPE ? 0 : GB * 1.5);
  console.log(`scratch ${DIR}: ${freeGB.toFixed(1)} GB free, about ${needGB.toFixed(1)} GB needed`);
  if (freeGB < needGB) throw new Error(`not enough disk space in ${DIR}`);

  const blobs = join(DIR, 'blobs');
  rmSync(blobs, { recursive: true, force: true });
  mkdirSync(blobs, { recursive: true });
  const genStart = process.hrtime.bigint();
  let layersA: Array<Blob & { files: number; uncompressed: number }>;
  let layersB: Array<Blob & { files: number; uncompressed: number }>;
  let planted: string;
  let payload: VllmPayload | undefined;
  // What a report must name: each planted difference.
  let lookFor: RegExp[] = [];
  const named = (text: string): string[] => lookFor.filter((r) => r.test(text)).map((r) => r.source.replace(/\\/g, ''));
  if (PAYLOAD === 'vllm') {
    console.log(`collecting real files for a vLLM-shaped pair of ~${GB} GB…`);
    payload = vllmPayload(GB * 1e9, DIR);
    const p = payload;
    layersA = [];
    for (const [i, files] of p.layersA.entries()) layersA.push(await writePayloadLayer(join(blobs, `layer-${i}`), files));
    layersB = [layersA[0]!];
    for (const [i, files] of p.layersB.entries()) if (i > 0) layersB.push(await writePayloadLayer(join(blobs, `layer-${i}-b`), files));
    planted = `B differs in ${p.planted.pyc} .pyc timestamps, ${p.planted.sharedObjects.length} rebuilt .so files (build ID and __DATE__/__TIME__), the RECORD hashing them, a wheel's ${p.planted.wheelMembers} member times and config.created`;
  } else {
    const perLayer = Math.floor((GB * 1e9) / COMPRESSED_RATIO / LAYERS);
    const none: Variant = { content: [], mtime: [] };
    const contentLayer = LAYERS - 2;
    const mtimeLayer = LAYERS - 1;

    console.log(`generating ${LAYERS} layers of ~${mb(perLayer)} MB uncompressed (+ 2 variant layers for image B)…`);
    const jobs: Array<() => Promise<Blob & { files: number; uncompressed: number }>> = [];
    const pycTime = PAYLOAD === 'python';
    for (let i = 0; i < LAYERS; i++) jobs.push(() => writeLayer(join(blobs, `layer-${i}`), i, perLayer, none));
    jobs.push(() => writeLayer(join(blobs, `layer-${contentLayer}-b`), contentLayer, perLayer, { content: [3, 11, 23], mtime: [], pycTime }));
    jobs.push(() => writeLayer(join(blobs, `layer-${mtimeLayer}-b`), mtimeLayer, perLayer, { content: [], mtime: MTIME_FILES, pycTime }));
    // Two at a time: gzip runs on the libuv pool, one layer per core.
    const results: Array<Blob & { files: number; uncompressed: number }> = new Array(jobs.length);
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < jobs.length) {
          const at = next++;
          results[at] = await jobs[at]!();
        }
      }),
    );
    layersA = results.slice(0, LAYERS);
    layersB = [...layersA.slice(0, contentLayer), results[LAYERS]!, results[LAYERS + 1]!];
    planted = `B differs in 3 files' content (layer ${contentLayer}), ${MTIME_FILES === 'all' ? 'every' : MTIME_FILES.length} files' mtime (layer ${mtimeLayer})${pycTime ? ', every .pyc timestamp in both' : ''} and config.created`;
    const pkg = `pkg-${String(contentLayer).padStart(2, '0')}`;
    lookFor = ['03', '11', '23'].map((n) => new RegExp(`${pkg}/(bin|share)-0000${n}`));
  }
  if (payload) {
    const p = payload.planted;
    lookFor = [...p.sharedObjects, p.record, p.wheel, 'pkg_000/__pycache__/m0.cpython-311.pyc'].map((name) => new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  }
  const archiveA = join(DIR, 'image-a.tar');
  const archiveB = join(DIR, 'image-b.tar');
  const archiveA2 = join(DIR, 'image-a-copy.tar');
  const configA = await writeArchive(archiveA, blobs, layersA, new Date(EPOCH * 1000).toISOString());
  const configB = await writeArchive(archiveB, blobs, layersB, new Date((EPOCH + 3600) * 1000).toISOString());
  await copyFile(archiveA, archiveA2);
  // diffoscope pairs files by name: the archives name blobs by digest, so it cannot pair the
  // differing layers. For a like-for-like run it also gets directories with the layers named by
  // position (hard links to the same blob files) and the configs.
  const byPosition = (side: string, layers: Blob[], config: Blob): string => {
    const dir = join(DIR, `diffoscope-${side}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    layers.forEach((l, i) => linkSync(l.path, join(dir, `layer-${String(i).padStart(2, '0')}.tar.gz`)));
    linkSync(config.path, join(dir, 'config.json'));
    return dir;
  };
  const dirA = byPosition('a', layersA, configA);
  const dirB = byPosition('b', layersB, configB);
  const sizeA = statSync(archiveA).size;
  const sizeB = statSync(archiveB).size;
  const files = layersA.reduce((n, l) => n + l.files, 0);
  const uncompressed = layersA.reduce((n, l) => n + l.uncompressed, 0);
  console.log(
    `generated in ${fmt(Number(process.hrtime.bigint() - genStart) / 1e9)} s: A ${mb(sizeA)} MB, B ${mb(sizeB)} MB, ${files} files, ${mb(uncompressed)} MB uncompressed; ` +
      `${planted} (payload: ${PAYLOAD})`,
  );

  // 1. The differing pair.
  warm(archiveA, archiveB);
  const engine = await timed(NODE, [CLI, archiveA, archiveB, '--json', join(DIR, 'report.json'), '--markdown', join(DIR, 'summary.md')]);
  if (engine.status !== 1) throw new Error(`the engine should say "differs" (exit 1), got ${engine.status}: ${engine.stderr.slice(-2000)}`);
  console.log(engine.stdout.trim().split('\n').map((l) => `  | ${l}`).join('\n'));
  warm(archiveA, archiveB);
  const opensslPair = await timed('openssl', ['sha256', archiveA, archiveB]);
  const engineText = `${engine.stdout}\n${readFileSync(join(DIR, 'summary.md'), 'utf8')}\n${readFileSync(join(DIR, 'report.json'), 'utf8')}`;
  const engineNamed = named(engine.stdout);
  const engineNamedAll = named(engineText);
  console.log(`  engine stdout names ${engineNamed.length} of ${lookFor.length} planted differences; stdout + Markdown + JSON name ${engineNamedAll.length}${engineNamedAll.length < lookFor.length ? ` (missing: ${lookFor.map((r) => r.source).filter((x) => !engineNamedAll.includes(x.replace(/\\/g, ''))).join(', ')})` : ''}`);
  let diffoscope: Timed | undefined;
  // As they are: once with diffoscope's defaults (fuzzy matching when python3-tlsh is installed),
  // and, with python3-tlsh, once with --fuzzy-threshold=0 (what it does without python3-tlsh).
  // diffoscope's own interpreter (its shebang), not whichever python3 is first on PATH.
  const diffoscopePython = SKIP_DIFFOSCOPE ? 'python3' : (/^#!\s*(\S+)/.exec(readFileSync(spawnSync('sh', ['-c', 'command -v diffoscope'], { encoding: 'utf8' }).stdout.trim(), 'utf8'))?.[1] ?? 'python3');
  const tlsh = spawnSync(diffoscopePython, ['-c', 'import tlsh']).status === 0;
  const asIs: Array<{ label: string; run: Timed; named: string[] }> = [];
  let diffoscopeNamed: string[] = [];
  if (!SKIP_DIFFOSCOPE) {
    warm(archiveA, archiveB);
    console.log(`running diffoscope on the layers paired by position (timeout ${DIFFOSCOPE_TIMEOUT} s; python3-tlsh ${tlsh ? 'installed' : 'not installed'})…`);
    diffoscope = await timed('diffoscope', ['--text', join(DIR, 'diffoscope-layers.txt'), dirA, dirB], DIFFOSCOPE_TIMEOUT);
    diffoscopeNamed = diffoscope.timedOut ? [] : named(readFileSync(join(DIR, 'diffoscope-layers.txt'), 'utf8'));
    console.log(`  diffoscope ${diffoscope.timedOut ? 'timed out' : `exited ${diffoscope.status}, its report names ${diffoscopeNamed.length > 0 ? diffoscopeNamed.join(', ') : 'none of the changed files'}`}`);
    if (DIFFOSCOPE_AS_IS) {
      const setups: Array<[string, string[]]> = tlsh ? [['python3-tlsh installed: fuzzy matching', []], ['--fuzzy-threshold=0: as without python3-tlsh', ['--fuzzy-threshold=0']]] : [['no python3-tlsh: no fuzzy matching', []]];
      for (const [label, extra] of setups) {
        warm(archiveA, archiveB);
        console.log(`running diffoscope on the archives as they are (${label}; timeout ${DIFFOSCOPE_TIMEOUT} s)…`);
        const out = join(DIR, `diffoscope-archives${extra.length ? '-nofuzzy' : ''}.txt`);
        const run = await timed('diffoscope', ['--text', out, ...extra, archiveA, archiveB], DIFFOSCOPE_TIMEOUT);
        const found = run.timedOut || !existsSync(out) ? [] : named(readFileSync(out, 'utf8'));
        console.log(`  ${run.timedOut ? 'timed out' : `exited ${run.status}, names ${found.length > 0 ? found.join(', ') : 'none of the changed files'}`}`);
        asIs.push({ label, run, named: found });
      }
    }
  }

  // 2. Two identical archives.
  warm(archiveA, archiveA2);
  const identical = await timed(NODE, [CLI, archiveA, archiveA2]);
  if (identical.status !== 0) throw new Error(`the engine should say "reproducible" (exit 0), got ${identical.status}: ${identical.stderr.slice(-2000)}`);
  warm(archiveA, archiveA2);
  const opensslSame = await timed('openssl', ['sha256', archiveA, archiveA2]);

  const pairBytes = sizeA + sizeB;
  const sameBytes = 2 * sizeA;
  const diffoscopeText = diffoscope ? (diffoscope.timedOut ? `> ${DIFFOSCOPE_TIMEOUT} (timed out)` : fmt(diffoscope.seconds)) : 'skipped';
  const ratio = diffoscope ? `${diffoscope.timedOut ? '> ' : ''}${(diffoscope.seconds / engine.seconds).toFixed(1)}×` : 'n/a';
  const throughput = (bytes: number, t: Timed): string => `${mb(bytes / t.seconds)} MB/s`;
  const rows: Array<[string, string, string, string]> = [
    [`differing pair: engine (names ${engineNamedAll.length} of ${lookFor.length} planted)`, fmt(engine.seconds), throughput(pairBytes, engine), `${((engine.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`],
    [`differing pair: diffoscope, layers paired by position (python3-tlsh ${tlsh ? 'installed' : 'not installed'}; names ${diffoscopeNamed.length} of ${lookFor.length} planted)`, diffoscopeText, diffoscope && !diffoscope.timedOut ? throughput(pairBytes, diffoscope) : '', diffoscope ? `${((diffoscope.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB` : ''],
    ...asIs.map(({ label, run, named: found }): [string, string, string, string] => [
      `differing pair: diffoscope on the archives as they are (${label}; names ${found.length} of ${lookFor.length} planted)`,
      run.timedOut ? `> ${DIFFOSCOPE_TIMEOUT}` : fmt(run.seconds),
      run.timedOut ? '' : throughput(pairBytes, run),
      `${((run.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`,
    ]),
    ['differing pair: openssl sha256', fmt(opensslPair.seconds), throughput(pairBytes, opensslPair), ''],
    ['identical pair: engine', fmt(identical.seconds), throughput(sameBytes, identical), `${((identical.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`],
    ['identical pair: openssl sha256', fmt(opensslSame.seconds), throughput(sameBytes, opensslSame), ''],
  ];
  console.log('');
  console.log(`| run (A ${mb(sizeA)} MB, B ${mb(sizeB)} MB) | seconds | throughput | peak RSS |`);
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
  console.log(`engine vs diffoscope (layers paired by position): ${ratio} faster (target ≥ 20×)`);
  for (const { label, run, named: found } of asIs) {
    if (!run.timedOut) console.log(`engine vs diffoscope on the archives as they are (${label}): ${(run.seconds / engine.seconds).toFixed(1)}×, naming ${found.length} of ${lookFor.length} planted differences`);
  }
  console.log(`identical verdict: ${((opensslSame.seconds / identical.seconds) * 100).toFixed(0)} % of openssl sha256's throughput (target ≥ 80 %)`);
  console.log(`engine peak RSS: ${((Math.max(engine.maxRssKiB ?? 0, identical.maxRssKiB ?? 0)) / 1024).toFixed(0)} MiB (target ≤ 256 MiB)`);

  const results_ = {
    gb: GB,
    layers: LAYERS,
    sizeA,
    sizeB,
    files,
    uncompressed,
    engine: { seconds: engine.seconds, maxRssKiB: engine.maxRssKiB },
    diffoscope: diffoscope ? { seconds: diffoscope.seconds, timedOut: diffoscope.timedOut, maxRssKiB: diffoscope.maxRssKiB, status: diffoscope.status } : null,
    payload: PAYLOAD,
    pythonTlsh: tlsh,
    engineNamed: engineNamedAll,
    diffoscopeNamed,
    diffoscopeAsIs: asIs.map(({ label, run, named: found }) => ({ label, seconds: run.seconds, timedOut: run.timedOut, status: run.status, maxRssKiB: run.maxRssKiB, named: found })),
    opensslPair: { seconds: opensslPair.seconds },
    identical: { seconds: identical.seconds, maxRssKiB: identical.maxRssKiB },
    opensslIdentical: { seconds: opensslSame.seconds },
  };
  writeFileSync(join(DIR, 'results.json'), JSON.stringify(results_, null, 2));
  console.log(`results: ${join(DIR, 'results.json')}`);
  if (!KEEP) {
    for (const p of [archiveA, archiveB, archiveA2, blobs, dirA, dirB]) rmSync(p, { recursive: true, force: true });
    console.log('archives removed (BENCH_KEEP=1 keeps them)');
  }
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exitCode = 1;
});
