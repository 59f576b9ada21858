// A build shaped like vLLM's ROCm image (issue 20), made of real files from this machine, for the
// vLLM-shaped benchmark (bench/vllm-build.ts) and its small-scale integration test:
//   - a multi-layer FROM-scratch base standing for rocm/pytorch: layer 1 is the C toolchain's own
//     files (gcc, binutils, libc headers, ccache and what they load, from dpkg's lists), the other
//     layers real trees (Python, Node, /usr/share, /usr/lib, ...), written here as an OCI layout and
//     pushed to the loopback registry, so the Dockerfile says FROM <repo>@sha256:…;
//   - a pip-install-like layer of many small real .py files;
//   - a compile step of generated C translation units under
//     RUN --mount=type=cache,id=vllm-rocm-ccache with ccache, standing for the HIP kernels;
//   - a small final layer (the entrypoint).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, lstatSync, readFileSync, realpathSync, renameSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface VllmShape {
  /** Bytes of real files in the base, toolchain layer included (at least the toolchain's, and 8 MiB per other layer). */
  baseBytes: number;
  /** Base layers: the toolchain's, then baseLayers - 1 layers of real trees sharing the rest. */
  baseLayers: number;
  /** C translation units compiled under the ccache mount. */
  units: number;
  /** Functions per unit: the compile time of one unit. */
  unitFunctions: number;
  /** Real small files (Python's trees, then /usr/share) in the pip-install-like layer. */
  smallFiles: number;
}

export interface RealFilesBase {
  /** <registry>/<repo>@sha256:… */
  ref: string;
  /** The base's own compressed layer digests, in order. */
  layers: string[];
  /** Uncompressed bytes of real files per layer. */
  layerBytes: number[];
}

export const CCACHE_MOUNT_ID = 'vllm-rocm-ccache';

/** What the toolchain layer needs to run `ccache gcc -c` and `gcc -shared` in a container. */
const TOOLCHAIN_PACKAGES = ['gcc-12', 'gcc', 'cpp-12', 'libc6-dev', 'ccache', 'dash', 'coreutils', 'findutils'];
/** Dependencies a compile never runs (package management, maintainer scripts). */
const NOT_NEEDED = new Set(['dpkg', 'debianutils', 'debconf', 'perl-base', 'tar', 'install-info', 'sensible-utils', 'gcc-12-base', 'usrmerge', 'usr-is-merged']);
/** Real trees for the other base layers, in the order they are taken. */
const BASE_TREES = ['/usr/lib/python3.11', '/usr/lib/python3', '/opt/node24', '/usr/share', '/usr/lib/x86_64-linux-gnu', '/usr/lib/llvm-14', '/usr/lib/jvm', '/usr/lib/google-cloud-sdk', '/usr/bin', '/opt/pypi'];

function dpkg(args: string[]): string {
  return execFileSync('dpkg-query', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
}

/** The toolchain packages and their Depends/Pre-Depends, installed ones only (an alternative: its first installed choice). */
function toolchainPackageClosure(): string[] {
  const installed = new Set(dpkg(['-W', '-f=${Package} ${db:Status-Status}\n']).split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0]!));
  const missing = TOOLCHAIN_PACKAGES.filter((p) => !installed.has(p));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not installed: run scripts/setup-toolchain.sh (the vLLM-shaped build compiles with them)`);
  const seen = new Set<string>();
  const queue = [...TOOLCHAIN_PACKAGES];
  while (queue.length > 0) {
    const pkg = queue.pop()!;
    if (seen.has(pkg) || NOT_NEEDED.has(pkg)) continue;
    seen.add(pkg);
    const deps = dpkg(['-W', '-f=${Depends}, ${Pre-Depends}', pkg]);
    for (const clause of deps.split(',').map((c) => c.trim()).filter(Boolean)) {
      const choice = clause.split('|').map((a) => a.trim().split(/[\s:(]/)[0]!).find((name) => installed.has(name));
      if (choice) queue.push(choice);
    }
  }
  return [...seen].sort();
}


/** The toolchain's files (regular files and symlinks), relative to /. */
export function toolchainFiles(): string[] {
  const listed = dpkg(['-L', ...toolchainPackageClosure()]).split('\n').filter((p) => p.startsWith('/'));
  // As the path lies on this merged-/usr system: its directory resolved, the name itself kept (a symlink stays one).
  const parents = new Map<string, string>();
  const out = new Set<string>();
  for (const path of listed) {
    const dir = dirname(path);
    if (!parents.has(dir)) {
      try {
        parents.set(dir, realpathSync(dir));
      } catch {
        parents.set(dir, '');
      }
    }
    const parent = parents.get(dir)!;
    if (!parent) continue;
    const real = join(parent, basename(path));
    const info = lstatSync(real, { throwIfNoEntry: false });
    if (info && (info.isFile() || info.isSymbolicLink())) out.add(real.slice(1));
  }
  // The merged-/usr links at the root, so /bin/sh and /lib64/ld-linux-x86-64.so.2 resolve.
  for (const link of ['bin', 'lib', 'lib64', 'sbin']) if (lstatSync(`/${link}`, { throwIfNoEntry: false })?.isSymbolicLink()) out.add(link);
  return [...out].sort();
}

/** Regular files and symlinks under `trees`, sorted, not in `skip`, until `budget` bytes. */
function filesUpTo(trees: string[], budget: number, skip: Set<string>): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const visit = (dir: string): boolean => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return true;
    }
    for (const name of names) {
      const path = join(dir, name);
      const info = lstatSync(path, { throwIfNoEntry: false });
      if (!info || Buffer.byteLength(path) > 240) continue;
      if (info.isDirectory()) {
        if (!visit(path)) return false;
      } else if ((info.isFile() || info.isSymbolicLink()) && !skip.has(path.slice(1))) {
        if (bytes + info.size > budget) return false;
        files.push(path.slice(1));
        skip.add(path.slice(1));
        bytes += info.size;
      }
    }
    return true;
  };
  for (const tree of trees) if (!visit(tree)) break;
  return { files, bytes };
}

/** Every ancestor directory of `files`, so that a layer carries its directories' own modes. */
function withDirectories(files: string[]): string[] {
  const dirs = new Set<string>();
  for (const f of files) for (let d = dirname(f); d !== '.' && d !== '/' && !dirs.has(d); d = dirname(d)) dirs.add(d);
  return [...dirs, ...files].sort();
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sizeOf(files: string[]): number {
  return files.reduce((n, f) => n + (lstatSync(`/${f}`).isFile() ? statSync(`/${f}`).size : 0), 0);
}

/**
 * Writes the base as an OCI layout under `work` (GNU tar of the real files, keeping their own mtimes as a
 * published base does, gzip -n; layers compressed two at a time) and pushes it to `repo` with skopeo.
 */
export async function pushRealFilesBase(work: string, repo: string, shape: Pick<VllmShape, 'baseBytes' | 'baseLayers'>): Promise<RealFilesBase> {
  rmSync(work, { recursive: true, force: true });
  const blobs = join(work, 'layout', 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const toolchain = toolchainFiles();
  const taken = new Set(toolchain);
  const rest = Math.max(shape.baseBytes - sizeOf(toolchain), (8 << 20) * (shape.baseLayers - 1));
  const lists: string[][] = [toolchain];
  const per = rest / Math.max(1, shape.baseLayers - 1);
  for (let i = 1; i < shape.baseLayers; i++) {
    const { files } = filesUpTo(BASE_TREES, per, taken);
    lists.push(files); // the next layer goes on where this one stopped: what it took is in `taken`
  }
  if (lists.some((l) => l.length === 0)) throw new Error(`the base of ${shape.baseBytes} bytes in ${shape.baseLayers} layers left a layer empty: fewer layers or more bytes`);
  const layerBytes = lists.map(sizeOf);
  const layers = await Promise.all(lists.map(async (list, i) => {
    const listFile = join(work, `layer-${i}.list`);
    writeFileSync(listFile, `${withDirectories(list).join('\n')}\n`);
    const blob = join(work, `layer-${i}.tar.gz`);
    const diffFile = join(work, `layer-${i}.diffid`);
    await runAsync('bash', ['-o', 'pipefail', '-c', 'tar -C / --no-recursion --numeric-owner --owner=0 --group=0 --format=posix --pax-option=delete=atime,delete=ctime -cf - -T "$1" | tee >(sha256sum | cut -c1-64 > "$2") | gzip -n -6 > "$3"', 'layer', listFile, diffFile, blob]);
    const digest = await sha256File(blob);
    const { size } = statSync(blob);
    renameSync(blob, join(blobs, digest));
    return { digest: `sha256:${digest}`, size, diffId: `sha256:${readFileSync(diffFile, 'utf8').trim()}` };
  }));
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '1970-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: '1970-01-01T00:00:00Z', created_by: `real files, layer ${i + 1}` })),
  }));
  const put = (bytes: Buffer): { digest: string; size: number } => {
    const digest = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(blobs, digest), bytes);
    return { digest: `sha256:${digest}`, size: bytes.length };
  };
  const configDesc = put(config);
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  })));
  writeFileSync(join(work, 'layout', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(work, 'layout', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'base' } }] }));
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:base`, `docker://${repo}:base`], { stdio: ['ignore', 'ignore', 'pipe'] });
  rmSync(work, { recursive: true, force: true });
  return { ref: `${repo}@${manifest.digest}`, layers: layers.map((l) => l.digest), layerBytes };
}

function runAsync(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.slice(0, 3).join(' ')} exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// The build context.

/** One deterministic translation unit: `functions` functions of loops, a switch and arithmetic, as a kernel file is. */
export function unitSource(unit: number, functions: number, variant = 0): string {
  const lines = [`/* kernel unit ${unit}${variant ? `, variant ${variant}` : ''} (generated) */`, '#include <stddef.h>', '#include <stdint.h>', '#include <math.h>'];
  for (let f = 0; f < functions; f++) {
    const k = (unit * 7919 + f * 104729 + variant * 13) % 997;
    const cases = Array.from({ length: 12 }, (_, c) => `    case ${c}: acc = acc * ${(k + c) % 31 + 2}.0f + sinf(x[i] * ${c + 1}.5f) - ${k % 17}.25f * y[(i + ${c}) % n]; break;`);
    lines.push(
      `float kernel_${unit}_${f}(const float *restrict x, const float *restrict y, float *restrict out, size_t n, int mode) {`,
      '  float acc = 0.0f;',
      '  for (size_t i = 0; i < n; i++) {',
      `    switch ((mode + (int)i * ${k % 13 + 1}) % 12) {`,
      ...cases,
      '    default: acc += x[i];',
      '    }',
      `    for (size_t j = 0; j < 8 && i + j < n; j++) out[i + j] += acc * y[j] / (float)(j + ${k % 5 + 1});`,
      '  }',
      `  return acc + ${k}.0f;`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function unitName(unit: number): string {
  return `kernel_${String(unit).padStart(4, '0')}.c`;
}

/** What the image serves: `server` puts the fake vLLM (test/support/fake-vllm.ts) in as `vllm serve`, so the smoke test can run it. */
export interface VllmServer {
  /** A static OpenAI-compatible server binary (fakeVllmBinary()), or undefined for the python3 entrypoint script. */
  server?: string;
}

/** The Dockerfile: the base by digest, the small-files layer, the sources, the ccache compile, the entrypoint. */
export function vllmDockerfile(baseRef: string, opts: { server?: boolean } = {}): string {
  const compile = [
    'set -e',
    'export CCACHE_DIR=/root/.cache/ccache CCACHE_BASEDIR=/workspace CCACHE_NOHASHDIR=true CCACHE_COMPILERCHECK=content CCACHE_MAXSIZE=5G',
    'ccache --zero-stats >/dev/null',
    'mkdir -p /workspace/build /opt/vllm',
    'cd /workspace/csrc',
    'ls *.c | xargs -P "$(nproc)" -I{} ccache gcc -O2 -fPIC -c {} -o /workspace/build/{}.o',
    'gcc -shared -o /opt/vllm/_C.so /workspace/build/*.o',
    'rm -rf /workspace/build',
    // The hit count in the build log (one line, parsed by the test and the bench): ccache's own counters.
    'ccache --print-stats | { h=0; m=0; while read -r k v; do case $k in direct_cache_hit|preprocessed_cache_hit) h=$((h+v));; cache_miss) m=$((m+v));; esac; done; echo "vllm-ccache hits=$h misses=$m"; }',
  ].join('; \\\n    ');
  return [
    `FROM ${baseRef}`,
    'COPY site-packages /usr/lib/python3/site-packages-vllm',
    'COPY csrc /workspace/csrc',
    `RUN --mount=type=cache,id=${CCACHE_MOUNT_ID},target=/root/.cache/ccache \\\n    ${compile}`,
    // With a server: upstream's ENTRYPOINT ["vllm", "serve"] (vllm/vllm-openai-rocm, docker/Dockerfile.rocm).
    ...(opts.server
      ? ['COPY vllm /usr/bin/vllm', 'ENTRYPOINT ["vllm", "serve"]']
      : ['COPY entrypoint.sh /usr/local/bin/vllm-entrypoint', 'ENTRYPOINT ["/usr/local/bin/vllm-entrypoint"]']),
    '',
  ].join('\n');
}

/** Lays the build context into `into`: Dockerfile, csrc/ (the units), site-packages/ (real small files), entrypoint.sh or the server. */
export function layVllmContext(into: string, baseRef: string, shape: Pick<VllmShape, 'units' | 'unitFunctions' | 'smallFiles'>, opts: VllmServer = {}): void {
  mkdirSync(join(into, 'csrc'), { recursive: true });
  for (let u = 0; u < shape.units; u++) writeFileSync(join(into, 'csrc', unitName(u)), unitSource(u, shape.unitFunctions));
  // Python's own trees first (.py, .pyc, data files), then /usr/share's small files: what a pip install writes is mostly files under 64 KiB.
  const site = join(into, 'site-packages');
  const { files } = filesUpTo(['/usr/lib/python3.11', '/usr/lib/python3', '/usr/share'], Number.MAX_SAFE_INTEGER, new Set());
  const small = files.filter((f) => {
    const info = lstatSync(`/${f}`);
    return info.isFile() && info.size < 64 << 10;
  }).slice(0, shape.smallFiles);
  if (small.length < shape.smallFiles) throw new Error(`only ${small.length} small files under /usr/lib/python3* and /usr/share, ${shape.smallFiles} asked`);
  for (const f of small) {
    const dest = join(site, f.replace(/^usr\/(lib|share)\//, ''));
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(`/${f}`, dest);
  }
  if (opts.server) copyFileSync(opts.server, join(into, 'vllm'));
  else writeFileSync(join(into, 'entrypoint.sh'), '#!/bin/sh\nexec python3 -m vllm.entrypoints.openai.api_server "$@"\n', { mode: 0o755 });
  writeFileSync(join(into, 'Dockerfile'), vllmDockerfile(baseRef, { server: !!opts.server }));
}

/** One unit's source changed, as a one-line kernel fix is: the other units' ccache entries still hit. */
export function changeOneUnit(into: string, unit: number, functions: number): void {
  writeFileSync(join(into, 'csrc', unitName(unit)), unitSource(unit, functions, 1));
}

/** The compile step's own hit count from a build log (the RUN step's `vllm-ccache hits=… misses=…` line). */
export function ccacheCounts(log: string): { hits: number; misses: number } | undefined {
  const all = [...log.matchAll(/vllm-ccache hits=(\d+) misses=(\d+)/g)];
  const last = all.at(-1);
  return last ? { hits: Number(last[1]), misses: Number(last[2]) } : undefined;
}
