// Benchmark of a warm image export (issue 20, target 2; not a test): with every step cached, how
// long `docker buildx build` takes to write the image as an OCI tar (output: oci) and as an OCI
// image layout directory (output: oci-layout, tar=false), each with `rewrite-timestamp` (the
// stage's argv), at several compressions and levels, against `cp -r` of the same blobs on the same
// disk: from the page cache, and synced (`cp -r` then fsync of every copied file; each export is
// timed the same way too, export then fsync of every file it wrote, so "synced" compares disk to
// disk without flushing other processes' writes). A FROM scratch image of BENCH_LAYERS COPY layers
// (BENCH_MIB in all) of either incompressible bytes (`random`) or copies of this machine's own
// files from /usr/lib (`files`: shared libraries, Python, like the layers a vLLM build adds), built
// on a private dockerd per engine (bench/private-dockerd.sh: the shared daemons are never touched)
// with the stage's own argv (buildxBuildArgs: rewrite-timestamp, SOURCE_DATE_EPOCH, no
// attestations). Each rep runs every way in turn, the order rotating. A warm `--output
// type=cacheonly` build gives buildx's own overhead (context, solve), so "export" is the wall time
// less that.
//
//   npx tsc -p tsconfig.json
//   BENCH_MIB=512 BENCH_REPS=3 node24 lib/bench/export-speed.js
//
// Environment: BENCH_MIB (default 512), BENCH_LAYERS (default 4), BENCH_REPS (default 3),
// BENCH_ENGINES (default 26,28), BENCH_PAYLOADS (default files,random), BENCH_WAYS (default every
// way below; comma-separated names), BENCH_DIR (default $TMPDIR/h-export-bench), BENCH_BRIDGE and
// BENCH_BRIDGE_CIDR (the private engines' bridge; default vra-hexport, 172.30.237.1/24).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildxBuildArgs, type ImageOutput } from '../src/docker/buildx-args.js';
import { REPO_ROOT } from '../test/support/action-runner.js';

const MIB = Number(process.env.BENCH_MIB ?? 512);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 4);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const ENGINES = (process.env.BENCH_ENGINES ?? '26,28').split(',');
const PAYLOADS = (process.env.BENCH_PAYLOADS ?? 'files,random').split(',') as Payload[];
const DIR = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'h-export-bench'));
const BRIDGE = process.env.BENCH_BRIDGE ?? 'vra-hexport';
const BRIDGE_CIDR = process.env.BENCH_BRIDGE_CIDR ?? '172.30.237.1/24';
const CONTEXT = join(DIR, 'context');
const OUT = join(DIR, 'out');
const DAEMON_DIR = join(DIR, 'dockerd');

type Payload = 'random' | 'files';

/**
 * The exporter options after `type=oci,dest=…,tar=false,rewrite-timestamp=true` for each export
 * way (BuildKit's image exporter options: compression, compression-level, force-compression).
 * `zstd-force` is what `compression: zstd` passes today.
 */
const EXPORTS: Record<string, { options: string; tar?: boolean; rewrite?: boolean }> = {
  'gzip': { options: '' },
  'gzip-1': { options: ',compression-level=1' },
  'zstd': { options: ',compression=zstd' },
  'zstd-1': { options: ',compression=zstd,compression-level=1' },
  'zstd-force': { options: ',compression=zstd,force-compression=true' },
  'tar-gzip': { options: '', tar: true },
  'gzip-no-rewrite': { options: '', rewrite: false },
};
const WAYS = (process.env.BENCH_WAYS ?? ['overhead', 'cp', 'cp-sync', ...Object.keys(EXPORTS)].join(',')).split(',');

/** Incompressible, deterministic bytes (sha256 in counter mode), so every run builds the same image. */
function layRandom(perLayer: number, i: number): void {
  const buf = Buffer.alloc(perLayer);
  for (let off = 0, n = 0; off < perLayer; off += 32, n++) createHash('sha256').update(`${i}:${n}`).digest().copy(buf, off);
  mkdirSync(join(CONTEXT, `layer-${i}`));
  writeFileSync(join(CONTEXT, `layer-${i}`, 'data.bin'), buf);
}

/** This machine's regular files under /usr/lib, in name order (so a run is repeatable on one machine). */
function* usrLibFiles(dir = '/usr/lib'): Generator<{ path: string; size: number }> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) yield* usrLibFiles(path);
    else if (st.isFile() && st.size > 0 && st.size <= 64 << 20) yield { path, size: st.size };
  }
}

/** Real files (shared libraries, Python, data) copied into the context, perLayer bytes per layer. */
function layFiles(perLayer: number): void {
  const files = usrLibFiles();
  for (let i = 0; i < LAYERS; i++) {
    const dir = join(CONTEXT, `layer-${i}`);
    mkdirSync(dir);
    for (let bytes = 0, n = 0; bytes < perLayer; n++) {
      const next = files.next();
      if (next.done) throw new Error(`/usr/lib holds less than ${MIB} MiB of files`);
      copyFileSync(next.value.path, join(dir, `${n}-${next.value.path.slice(1).replace(/\//g, '_')}`));
      bytes += next.value.size;
    }
  }
}

function layContext(payload: Payload): void {
  rmSync(CONTEXT, { recursive: true, force: true });
  mkdirSync(CONTEXT, { recursive: true });
  const perLayer = Math.floor((MIB * 1024 * 1024) / LAYERS);
  if (payload === 'files') layFiles(perLayer);
  else for (let i = 0; i < LAYERS; i++) layRandom(perLayer, i);
  const copies = Array.from({ length: LAYERS }, (_, i) => `COPY layer-${i} /data/layer-${i}`);
  writeFileSync(join(CONTEXT, 'Dockerfile'), ['FROM scratch', ...copies, ''].join('\n'));
}

function engineEnv(engine: string, host: string): Record<string, string> {
  if (engine !== '28') return { DOCKER_HOST: host };
  const prefix = process.env.DOCKER28_PREFIX ?? '/opt/vllm-rocm-action/docker28';
  const config = join(DIR, 'docker28-config');
  mkdirSync(join(config, 'cli-plugins'), { recursive: true });
  rmSync(join(config, 'cli-plugins', 'docker-buildx'), { force: true });
  execFileSync('ln', ['-s', join(prefix, 'root', 'usr', 'libexec', 'docker', 'cli-plugins', 'docker-buildx'), join(config, 'cli-plugins', 'docker-buildx')]);
  return { DOCKER_HOST: host, DOCKER_CONFIG: config, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
}

function timed(command: string, args: string[], env: Record<string, string> = {}): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { env: { ...process.env, ...env, SOURCE_DATE_EPOCH: '0' }, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.slice(-2000)}`);
  return seconds;
}

/** fsync of every file under path (coreutils `sync FILE…`), not of the whole machine's dirty pages. */
const fsyncTree = (path: string): number => timed('bash', ['-c', 'find "$1" -type f -exec sync {} +', 'fsync', path]);

function duBytes(path: string): number {
  let total = 0;
  for (const name of readdirSync(path)) {
    const full = join(path, name);
    const st = statSync(full);
    total += st.isDirectory() ? duBytes(full) : st.size;
  }
  return total;
}

/** The stage's own argv (rewrite-timestamp, SOURCE_DATE_EPOCH, no attestations), the exporter options appended. */
function build(env: Record<string, string>, output: ImageOutput | { type: 'cacheonly' }, options = '', rewriteTimestamp = true): number {
  const args = buildxBuildArgs({
    context: CONTEXT,
    file: join(CONTEXT, 'Dockerfile'),
    buildArgs: [],
    platform: 'linux/amd64',
    tags: [],
    labels: [],
    cache: { type: 'none' },
    output: output.type === 'cacheonly' ? { type: 'registry' } : output,
    sourceDateEpoch: 0,
    metadataFile: join(DIR, 'metadata.json'),
    provenance: false,
    sbom: false,
    rewriteTimestamp,
    compression: 'gzip',
  });
  const at = args.indexOf('--output') + 1;
  args[at] = output.type === 'cacheonly' ? 'type=cacheonly' : `${args[at]}${options}`;
  return timed('docker', args, env);
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number): string => n.toFixed(2);

function measure(engine: string, payload: Payload, rows: string[]): void {
  const host = execFileSync('bash', [join(REPO_ROOT, 'bench', 'private-dockerd.sh'), 'start', DAEMON_DIR, engine], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_BRIDGE: BRIDGE, BENCH_BRIDGE_CIDR: BRIDGE_CIDR },
  }).trim();
  try {
    const env = engineEnv(engine, host);
    const version = execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    // Cold: every step built once, and the layout's blobs compressed once (the image as the stage writes it today).
    const cold = build(env, { type: 'oci-layout', dest: join(OUT, 'cold.oci') });
    const blobs = join(OUT, 'cold.oci', 'blobs');
    const times: Record<string, number[]> = {};
    const synced: Record<string, number[]> = {};
    const sizes: Record<string, number> = { cold: duBytes(blobs) };
    const ways: Array<[string, () => number]> = [];
    for (const way of WAYS) {
      if (way === 'overhead') ways.push([way, () => build(env, { type: 'cacheonly' })]);
      else if (way === 'cp' || way === 'cp-sync') {
        ways.push([
          way,
          () => {
            rmSync(join(OUT, way), { recursive: true, force: true });
            const copy = timed('cp', ['-r', blobs, join(OUT, way)]);
            if (way === 'cp-sync') (synced[way] ??= []).push(copy + fsyncTree(join(OUT, way)));
            return copy;
          },
        ]);
      } else {
        const spec = EXPORTS[way];
        if (spec === undefined) throw new Error(`BENCH_WAYS: no way ${way} (ways: overhead, cp, cp-sync, ${Object.keys(EXPORTS).join(', ')})`);
        const dest = join(OUT, spec.tar ? `${way}.oci.tar` : `${way}.oci`);
        ways.push([
          way,
          () => {
            rmSync(dest, { recursive: true, force: true });
            const seconds = build(env, { type: spec.tar ? 'oci' : 'oci-layout', dest }, spec.options, spec.rewrite ?? true);
            (synced[way] ??= []).push(seconds + fsyncTree(dest));
            sizes[way] = spec.tar ? statSync(dest).size : duBytes(join(dest, 'blobs'));
            return seconds;
          },
        ]);
      }
    }
    for (let rep = 0; rep < REPS; rep++) {
      for (let k = 0; k < ways.length; k++) {
        const [name, run] = ways[(k + rep) % ways.length]!;
        (times[name] ??= []).push(run());
      }
    }
    const m = (name: string, from = times): number | undefined => (from[name] ? median(from[name]) : undefined);
    const overhead = m('overhead') ?? 0;
    const cp = m('cp');
    const cpSync = m('cp-sync', synced);
    console.log(`engine ${engine} (${version}), ${payload}: cold ${fmt(cold)} s; load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
    console.log(`  wall: ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map(fmt)])))}`);
    console.log(`  synced: ${JSON.stringify(Object.fromEntries(Object.entries(synced).map(([k, v]) => [k, v.map(fmt)])))}`);
    console.log(`  blob MiB: ${JSON.stringify(Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, (v / 2 ** 20).toFixed(1)])))}`);
    rows.push(`| ${engine} (${version}) | ${payload} | cp -r blobs | ${fmt(sizes.cold! / 2 ** 20)} | ${cp === undefined ? '' : fmt(cp)} | ${cpSync === undefined ? '' : fmt(cpSync)} | | |`);
    for (const way of WAYS.filter((w) => EXPORTS[w])) {
      const wall = m(way)!;
      const sync = m(way, synced)!;
      const ratio = (a: number, b: number | undefined): string => (b ? `${fmt(a / b)}×` : '');
      rows.push(
        `| ${engine} (${version}) | ${payload} | ${way} | ${fmt(sizes[way]! / 2 ** 20)} | ${fmt(wall)} (${fmt(Math.max(0, wall - overhead))}) | ${fmt(sync)} | ${ratio(wall, cp)} (${ratio(Math.max(0, wall - overhead), cp)}) | ${ratio(sync, cpSync)} |`,
      );
    }
  } finally {
    execFileSync('bash', [join(REPO_ROOT, 'bench', 'private-dockerd.sh'), 'stop', DAEMON_DIR], { env: { ...process.env, BENCH_BRIDGE: BRIDGE } });
  }
}

function main(): void {
  console.log(`# warm export: ${LAYERS} layers, ${MIB} MiB, payloads ${PAYLOADS.join(', ')}, ${REPS} reps, engines ${ENGINES.join(', ')}, ways ${WAYS.join(', ')}`);
  const rows: string[] = [];
  for (const payload of PAYLOADS) {
    layContext(payload);
    for (const engine of ENGINES) measure(engine, payload, rows);
  }
  console.log('\n| engine | payload | way | blobs (MiB) | wall (export less overhead) s | synced s | ÷ cp: wall (export) | synced ÷ cp synced |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  rmSync(DIR, { recursive: true, force: true });
}

main();
