// Moves the contents of a BuildKit cache mount (RUN --mount=type=cache) in and out of the builder,
// as reproducible-containers/buildkit-cache-dance does (src/inject-cache.ts, src/extract-cache.ts):
// a helper build mounts the same cache and copies. That action runs its copy in a pulled busybox
// image; here nothing is pulled: the helper image is FROM scratch plus the runner's own static
// busybox, sent in the helper's build context. The helper's output is cacheonly (inject) or a
// local directory (extract): the mount's content never becomes a layer of any image.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, copyFile, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { csvField } from './buildx-args.js';
import { capture } from '../tool/capture.js';

/** The mount as the Dockerfile declares it: BuildKit finds it again only by these (src/docker/dockerfile.ts). */
export interface CacheMountSpec {
  id: string;
  uid?: string;
  gid?: string;
  mode?: string;
}

export interface HelperBuild {
  /** A buildx builder name; the default builder when undefined. */
  builder?: string;
  /** The build's BUILDKIT_CACHE_MOUNT_NS, which prefixes every cache id. */
  namespace?: string;
}

/** Where the mount appears in the helper build. */
const MOUNT_TARGET = '/vllm-rocm-action-mount';

/** The RUN --mount option naming the same cache as the user's Dockerfile. */
export function mountOption(spec: CacheMountSpec): string {
  const fields = ['type=cache', csvField('id', spec.id), `target=${MOUNT_TARGET}`, 'sharing=locked'];
  for (const key of ['uid', 'gid', 'mode'] as const) if (spec[key] !== undefined) fields.push(`${key}=${spec[key]}`);
  return fields.join(',');
}

/** Dockerfile of the inject build: copies the `content` context into the mount, owned as the mount's creator. */
export function injectDockerfile(spec: CacheMountSpec): string {
  const owner = `${spec.uid ?? '0'}:${spec.gid ?? '0'}`;
  // Not cp -n: busybox then skips the whole tree, as the mount's top directory exists.
  const script = `/busybox cp -a /content/. ${MOUNT_TARGET}/ && /busybox chown -R ${owner} ${MOUNT_TARGET}`;
  return `FROM scratch
COPY busybox stamp /
RUN --mount=${mountOption(spec)} --mount=type=bind,from=content,target=/content ["/busybox", "sh", "-c", ${JSON.stringify(script)}]
`;
}

/** Dockerfile of the extract build: its last stage holds a copy of the mount, for a local export. */
export function extractDockerfile(spec: CacheMountSpec): string {
  const script = `/busybox mkdir /out && /busybox cp -a ${MOUNT_TARGET}/. /out/`;
  return `FROM scratch AS copy
COPY busybox stamp /
RUN --mount=${mountOption(spec)} ["/busybox", "sh", "-c", ${JSON.stringify(script)}]
FROM scratch
COPY --from=copy /out/ /
`;
}

/** A statically linked busybox on PATH: the helper image has no libc to load a dynamic one. */
export async function findStaticBusybox(path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'busybox');
    try {
      await access(candidate, constants.X_OK);
      if (await isStaticElf(candidate)) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** An ELF executable without a PT_INTERP program header (no dynamic loader). */
export async function isStaticElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = header[4] === 2;
    const le = header[5] === 1;
    const u16 = (b: Buffer, at: number): number => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
    const phoff = is64 ? Number(le ? header.readBigUInt64LE(32) : header.readBigUInt64BE(32)) : u32(header, 28);
    const phentsize = u16(header, is64 ? 54 : 42);
    const phnum = u16(header, is64 ? 56 : 44);
    if (phnum === 0 || phentsize < 4 || phnum > 4096) return false;
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (u32(table, i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    await handle.close();
  }
}

async function helperContext(dir: string, busybox: string, dockerfile: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await copyFile(busybox, join(dir, 'busybox'));
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  // A new stamp each time: the copy step is never a cache hit (a cached step copies nothing).
  await writeFile(join(dir, 'stamp'), randomBytes(16).toString('hex'));
}

function helperArgs(dir: string, helper: HelperBuild): string[] {
  return [
    'buildx', 'build', '--progress', 'plain',
    ...(helper.builder ? ['--builder', helper.builder] : []),
    ...(helper.namespace !== undefined ? ['--build-arg', `BUILDKIT_CACHE_MOUNT_NS=${helper.namespace}`] : []),
    '-f', join(dir, 'Dockerfile'),
  ];
}

async function runHelper(args: string[], what: string): Promise<void> {
  const result = await capture('docker', args);
  if (result.exitCode !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-6).join('\n');
    throw new Error(`${what}: docker buildx build exited ${result.exitCode}: ${tail}`);
  }
}

/** Copies `content` (a directory of plain files) into the cache mount. `work` is emptied and reused. */
export async function injectCacheMount(spec: CacheMountSpec, content: string, work: string, busybox: string, helper: HelperBuild = {}): Promise<void> {
  await helperContext(work, busybox, injectDockerfile(spec));
  try {
    await runHelper([...helperArgs(work, helper), '--build-context', `content=${content}`, '--output', 'type=cacheonly', work], `filling cache mount ${spec.id}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Copies the cache mount's content into `dest` (made anew). `work` is emptied and reused. */
export async function extractCacheMount(spec: CacheMountSpec, dest: string, work: string, busybox: string, helper: HelperBuild = {}): Promise<void> {
  await helperContext(work, busybox, extractDockerfile(spec));
  await rm(dest, { recursive: true, force: true });
  try {
    await runHelper([...helperArgs(work, helper), '--output', `type=local,${csvField('dest', dest)}`, work], `reading cache mount ${spec.id}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
