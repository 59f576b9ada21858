// The image to test: a reference already in the local engine, an OCI/docker archive or an OCI
// image layout directory loaded first,
// or a reference by digest pulled first (pull.ts).
import { stat } from 'node:fs/promises';
import { InputError } from '../action/inputs.js';
import { diskRow, type PreflightRow } from '../rocm/preflight.js';
import { runTimed } from '../tool/timed.js';
import { pullByDigest } from './pull.js';
import { layoutTar, planLayoutTar } from '../oci/layout-tar.js';

const LOAD_TIMEOUT_MS = 30 * 60_000;

export interface PreparedImage {
  ref: string;
  disk: PreflightRow;
  loaded: boolean;
}

/** Loaded image reference from `docker load` output ("Loaded image: x:y" or "Loaded image ID: sha256:…"). */
export function parseDockerLoad(stdout: string): string | undefined {
  const refs = [...stdout.matchAll(/^Loaded image(?: ID)?: (\S+)\s*$/gm)].map((m) => m[1]!);
  return refs[0];
}

async function dockerRootDir(): Promise<string> {
  const info = await runTimed('docker', ['info', '--format', '{{.DockerRootDir}}'], { timeoutMs: 30_000 });
  if (info.missing) throw new Error('docker is not installed or not on PATH (use command: for a runner without Docker)');
  if (info.exitCode !== 0) throw new Error(`docker info failed: ${info.stderr.trim()}`);
  return info.stdout.trim() || '/var/lib/docker';
}

/** Checks the disk first, then loads an archive (or finds the local image). */
export async function prepareImage(image: string, isPath: boolean, onDisk: (row: PreflightRow) => void): Promise<PreparedImage> {
  const root = await dockerRootDir();
  if (isPath) {
    const info = await stat(image).catch(() => undefined);
    if (!info?.isFile() && !info?.isDirectory()) {
      throw new InputError('image', `${image} is neither a file nor a directory (an OCI or docker archive path, an OCI image layout directory, or an image reference in the local engine)`);
    }
    // A layout directory goes to `docker load` as a tar stream of what its index.json references.
    const plan = info.isDirectory() ? await planLayoutTar(image).catch((error: Error) => {
      throw new InputError('image', `${image} is not a usable OCI image layout: ${error.message}`);
    }) : undefined;
    // Layers are stored and unpacked: about twice the archive.
    const disk = await diskRow(
      root,
      { bytes: (plan?.tarBytes ?? info.size) * 2, basis: `twice the ${plan ? "layout's tar" : "archive"}'s size: docker load stores the layers and unpacks them` },
      plan ? 'loading the layout' : 'loading the archive',
    );
    onDisk(disk);
    if (disk.verdict === 'fail') return { ref: image, disk, loaded: false };
    const load = plan
      ? await runTimed('docker', ['load'], { timeoutMs: LOAD_TIMEOUT_MS, input: layoutTar(plan) })
      : await runTimed('docker', ['load', '--input', image], { timeoutMs: LOAD_TIMEOUT_MS });
    if (load.inputError) throw new Error(`docker load of ${image} failed: ${load.inputError.message}`);
    if (load.exitCode !== 0) throw new Error(`docker load of ${image} failed${load.timedOut ? ' (timed out)' : ''}: ${load.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const ref = parseDockerLoad(load.stdout);
    if (!ref) throw new Error(`docker load of ${image} named no image: ${load.stdout.trim().slice(0, 300)}`);
    return { ref, disk, loaded: true };
  }
  const inspect = await runTimed('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { timeoutMs: 30_000 });
  if (inspect.exitCode !== 0) await pullByDigest(image);
  const disk = await diskRow(root, { bytes: 2 * 1024 ** 3, basis: 'a floor of 2.0 GiB for a running container' }, 'the container and its logs');
  onDisk(disk);
  return { ref: image, disk, loaded: false };
}
