// What a build produced, as an image: an OCI archive, an OCI layout directory, a docker-archive
// (plain or gzip'ed), or a stream script (streamLayeredImage) whose stdout is a docker-archive.
import { access, constants, open, readFile, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { summarizeOciScan } from './archive.js';
import { describeDockerScan } from './docker-archive.js';
import { ImageArchiveError, scanImageTar, type ArchiveScan } from './scan.js';

export type ImageKind = 'oci-archive' | 'oci-layout' | 'docker-archive';

export interface ImageDescription {
  kind: ImageKind;
  /** The file (or layout directory) holding the image. */
  path: string;
  /** Manifest digest of the image as the suite pushes it. */
  digest: string;
  configDigest: string;
  sizeBytes: number;
  /** Set when the image came from running a stream script. */
  streamedFrom?: string;
}

/** The image a build output holds, as a file or layout directory: a stream script is run into streamTarget. */
export async function imageFile(path: string, streamTarget: string): Promise<{ path: string; streamedFrom?: string; directory: boolean }> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ImageArchiveError(`${path} does not exist`);
  if (info.isDirectory()) return { path, directory: true };
  if (await isScript(path)) {
    await runStream(path, streamTarget);
    return { path: streamTarget, streamedFrom: path, directory: false };
  }
  return { path, directory: false };
}

export async function describeImagePath(path: string, streamTarget: string): Promise<ImageDescription> {
  const file = await imageFile(path, streamTarget);
  if (file.directory) return describeOciLayout(file.path);
  const description = await describeArchive(file.path);
  return file.streamedFrom ? { ...description, streamedFrom: file.streamedFrom } : description;
}

export async function describeArchive(path: string): Promise<ImageDescription> {
  const scan = await scanImageTar(path, { hashAll: true });
  return describeScan(scan, path);
}

function describeScan(scan: ArchiveScan, path: string): ImageDescription {
  if (scan.small.has('index.json')) {
    const oci = summarizeOciScan(scan);
    return { kind: 'oci-archive', path, digest: oci.manifestDigest, configDigest: oci.configDigest, sizeBytes: oci.sizeBytes };
  }
  if (scan.small.has('manifest.json')) {
    const docker = describeDockerScan(scan);
    return { kind: 'docker-archive', path, digest: docker.manifestDigest, configDigest: docker.manifest.config.digest, sizeBytes: docker.sizeBytes };
  }
  throw new ImageArchiveError(`${path} is a tar archive but neither an OCI archive (index.json) nor a docker-archive (manifest.json)`);
}

async function describeOciLayout(dir: string): Promise<ImageDescription> {
  const index = await readFile(join(dir, 'index.json')).catch(() => undefined);
  if (!index) throw new ImageArchiveError(`${dir} is a directory without index.json: not an OCI image layout`);
  // Only the JSON blobs are needed in memory; layer sizes come from the files themselves.
  const scan: ArchiveScan = { label: dir, small: new Map([['index.json', index]]), members: new Map() };
  const parsed = JSON.parse(index.toString('utf8')) as { manifests?: Array<{ digest: string }> };
  const pending = [...(parsed.manifests ?? []).map((m) => m.digest)];
  while (pending.length) {
    const digest = pending.pop()!;
    const name = `blobs/${digest.replace(':', '/')}`;
    const bytes = await readFile(join(dir, name)).catch(() => undefined);
    if (!bytes) continue;
    scan.small.set(name, bytes);
    const doc = JSON.parse(bytes.toString('utf8')) as { manifests?: Array<{ digest: string }>; config?: { digest: string }; layers?: Array<{ digest: string }> };
    for (const m of doc.manifests ?? []) pending.push(m.digest);
    if (doc.config) {
      const configName = `blobs/${doc.config.digest.replace(':', '/')}`;
      scan.small.set(configName, await readFile(join(dir, configName)));
    }
    for (const l of doc.layers ?? []) {
      const layerName = `blobs/${l.digest.replace(':', '/')}`;
      const s = await stat(join(dir, layerName)).catch(() => undefined);
      if (s) scan.members.set(layerName, { size: s.size });
    }
  }
  const oci = summarizeOciScan(scan);
  return { kind: 'oci-layout', path: dir, digest: oci.manifestDigest, configDigest: oci.configDigest, sizeBytes: oci.sizeBytes };
}

async function isScript(path: string): Promise<boolean> {
  const executable = await access(path, constants.X_OK).then(() => true, () => false);
  if (!executable) return false;
  const handle = await open(path, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return buffer.toString('latin1') === '#!';
  } finally {
    await handle.close();
  }
}

async function runStream(script: string, target: string): Promise<void> {
  const child = spawn(script, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  const errors: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => errors.push(d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  await pipeline(child.stdout, createWriteStream(target));
  const code = await exited;
  if (code !== 0) {
    throw new ImageArchiveError(`the image stream script ${script} exited ${code}: ${Buffer.concat(errors).toString('utf8').trim().split('\n').slice(-5).join(' ')}`);
  }
}
