// What a build produced, as an image: an OCI archive, an OCI layout directory, a docker-archive
// (plain or gzip'ed), or a stream script (streamLayeredImage) whose stdout is a docker-archive.
import { access, constants, open, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { ImageArchiveError } from './bounds.js';
import { verifyLayers, withImage, type ImageKind } from './image.js';

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
  const description = await describeArchive(file.path);
  return file.streamedFrom ? { ...description, streamedFrom: file.streamedFrom } : description;
}

/** An image file or OCI layout directory, read with the one bounded reader; every blob is verified. */
export async function describeArchive(path: string): Promise<ImageDescription> {
  return withImage(path, async (opened) => {
    const { model } = opened;
    const image = model.images[0]!;
    await verifyLayers(opened, [...new Map(model.images.flatMap((m) => m.manifest.layers).map((l) => [l.digest, l])).values()]);
    return {
      kind: model.kind,
      path,
      digest: image.descriptor.digest,
      configDigest: image.manifest.config.digest,
      sizeBytes: image.manifestBytes.length + image.configBytes.length + image.manifest.layers.reduce((n, l) => n + l.size, 0),
    };
  });
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

/**
 * The stream script is build output (or downloaded code): it gets what a program needs to run and
 * nothing else of the job's environment — no ACTIONS_* or GITHUB_* token, no cloud credentials.
 */
function streamScriptEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { PATH: env.PATH || '/usr/bin:/bin', HOME: env.HOME || tmpdir(), TMPDIR: tmpdir(), LANG: 'C.UTF-8' };
}

async function runStream(script: string, target: string): Promise<void> {
  const child = spawn(script, [], { stdio: ['ignore', 'pipe', 'pipe'], env: streamScriptEnv() });
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
