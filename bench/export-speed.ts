// Benchmark of a warm image export (issue 20, target 2; not a test): with every step cached, how
// long `docker buildx build` takes to write the image as an OCI tar (output: oci) and as an OCI
// image layout directory (output: oci-layout, tar=false), against `cp -r` of the same blobs on the
// same disk. A FROM scratch image of BENCH_LAYERS COPY layers of incompressible bytes (BENCH_MIB in
// all), built on a private dockerd per engine (bench/private-dockerd.sh: the shared daemons are
// never touched) with the stage's own argv (buildxBuildArgs: rewrite-timestamp, SOURCE_DATE_EPOCH,
// no attestations). Each rep runs every way in turn, the order rotating. A warm `--output
// type=cacheonly` build gives buildx's own overhead (context, solve), so "export" is the wall time
// less that.
//
//   npx tsc -p tsconfig.json
//   BENCH_MIB=512 BENCH_REPS=3 node24 lib/bench/export-speed.js
//
// Environment: BENCH_MIB (default 512), BENCH_LAYERS (default 4), BENCH_REPS (default 3),
// BENCH_ENGINES (default 26,28), BENCH_COMPRESSION (gzip or zstd), BENCH_DIR (default
// $TMPDIR/h-export-bench).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildxBuildArgs, type Compression, type ImageOutput } from '../src/docker/buildx-args.js';
import { REPO_ROOT } from '../test/support/action-runner.js';

const MIB = Number(process.env.BENCH_MIB ?? 512);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 4);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const ENGINES = (process.env.BENCH_ENGINES ?? '26,28').split(',');
const COMPRESSION = (process.env.BENCH_COMPRESSION ?? 'gzip') as Compression;
const DIR = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'h-export-bench'));
const CONTEXT = join(DIR, 'context');
const OUT = join(DIR, 'out');
const DAEMON_DIR = join(DIR, 'dockerd');

/** Incompressible, deterministic bytes (sha256 in counter mode), so every run builds the same image. */
function layContext(): void {
  rmSync(CONTEXT, { recursive: true, force: true });
  mkdirSync(CONTEXT, { recursive: true });
  const perLayer = Math.floor((MIB * 1024 * 1024) / LAYERS);
  for (let i = 0; i < LAYERS; i++) {
    const buf = Buffer.alloc(perLayer);
    for (let off = 0, n = 0; off < perLayer; off += 32, n++) createHash('sha256').update(`${i}:${n}`).digest().copy(buf, off);
    writeFileSync(join(CONTEXT, `layer-${i}.bin`), buf);
  }
  const copies = Array.from({ length: LAYERS }, (_, i) => `COPY layer-${i}.bin /data/layer-${i}.bin`);
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

function build(env: Record<string, string>, output: ImageOutput | { type: 'cacheonly' }, rewriteTimestamp = true): number {
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
    compression: COMPRESSION,
  });
  if (output.type === 'cacheonly') args[args.indexOf('--output') + 1] = 'type=cacheonly';
  return timed('docker', args, env);
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number): string => n.toFixed(2);

function main(): void {
  console.log(`# warm export: ${LAYERS} layers, ${MIB} MiB incompressible, ${COMPRESSION}, ${REPS} reps, engines ${ENGINES.join(', ')}`);
  layContext();
  const rows: string[] = [];
  for (const engine of ENGINES) {
    const host = execFileSync('bash', [join(REPO_ROOT, 'bench', 'private-dockerd.sh'), 'start', DAEMON_DIR, engine], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_BRIDGE: 'vra-bench2', BENCH_BRIDGE_CIDR: '172.30.231.1/24' },
    }).trim();
    try {
      const env = engineEnv(engine, host);
      const version = execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
      rmSync(OUT, { recursive: true, force: true });
      mkdirSync(OUT, { recursive: true });
      // Cold: every step built once, and the layout's blobs compressed once (BuildKit keeps them).
      const cold = build(env, { type: 'oci-layout', dest: join(OUT, 'cold.oci') });
      const times: Record<string, number[]> = { overhead: [], tar: [], layout: [], layoutNoRewrite: [], cp: [] };
      const ways: Array<[keyof typeof times, () => number]> = [
        ['overhead', () => build(env, { type: 'cacheonly' })],
        ['tar', () => (rmSync(join(OUT, 'image.oci.tar'), { force: true }), build(env, { type: 'oci', dest: join(OUT, 'image.oci.tar') }))],
        ['layout', () => (rmSync(join(OUT, 'image.oci'), { recursive: true, force: true }), build(env, { type: 'oci-layout', dest: join(OUT, 'image.oci') }))],
        ['layoutNoRewrite', () => (rmSync(join(OUT, 'plain.oci'), { recursive: true, force: true }), build(env, { type: 'oci-layout', dest: join(OUT, 'plain.oci') }, false))],
        ['cp', () => (rmSync(join(OUT, 'copy'), { recursive: true, force: true }), timed('cp', ['-r', join(OUT, 'cold.oci', 'blobs'), join(OUT, 'copy')]))],
      ];
      for (let rep = 0; rep < REPS; rep++) {
        for (let k = 0; k < ways.length; k++) {
          const [name, run] = ways[(k + rep) % ways.length]!;
          times[name]!.push(run());
        }
      }
      const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof times, number>;
      const net = (s: number): number => Math.max(0, s - m.overhead);
      console.log(`engine ${engine} (${version}): cold ${fmt(cold)} s; ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map(fmt)])))}`);
      rows.push(
        `| ${engine} (${version}) | ${fmt(m.cp)} | ${fmt(m.overhead)} | ${fmt(m.tar)} (${fmt(net(m.tar))}) | ${fmt(m.layout)} (${fmt(net(m.layout))}) | ${fmt(m.layoutNoRewrite)} (${fmt(net(m.layoutNoRewrite))}) | ${fmt(m.tar / m.cp)}× (${fmt(net(m.tar) / m.cp)}×) | ${fmt(m.layout / m.cp)}× (${fmt(net(m.layout) / m.cp)}×) | ${fmt(m.layoutNoRewrite / m.cp)}× |`,
      );
    } finally {
      execFileSync('bash', [join(REPO_ROOT, 'bench', 'private-dockerd.sh'), 'stop', DAEMON_DIR]);
    }
  }
  console.log('\n| engine | cp -r blobs (s) | buildx overhead, cacheonly (s) | OCI tar: wall (export) s | OCI layout: wall (export) s | layout, no rewrite-timestamp | tar ÷ cp: wall (export) | layout ÷ cp: wall (export) | layout no rewrite ÷ cp |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  rmSync(DIR, { recursive: true, force: true });
}

main();
