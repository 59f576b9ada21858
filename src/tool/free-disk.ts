// Free disk: the check every stage that writes an image makes first, and the peak-disk sampler
// behind the job-time table's "peak extra disk" row. A hosted runner has about 14 GB free and a
// vLLM image is 7-22 GB, so a stage says what it needs before it starts writing, not after.
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runTimed } from './timed.js';

/** A human size: "7.9 GiB", "312.0 MiB", "12.0 KiB", "17 B". */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The nearest ancestor of `path` that exists (statfs needs one: the stage's directory may not yet). */
async function existingAncestor(path: string): Promise<string> {
  let at = path;
  for (;;) {
    if (await stat(at).then(() => true, () => false)) return at;
    const up = dirname(at);
    if (up === at) return at;
    at = up;
  }
}

/** Bytes an unprivileged writer may still use on the file system that holds `path`. */
export async function freeBytes(path: string): Promise<number> {
  const fs = await statfs(await existingAncestor(path));
  return fs.bavail * fs.bsize;
}

/** What a stage is about to write: its size, and what that size figure rests on (said in the error). */
export interface DiskNeed {
  bytes: number;
  /** e.g. "the size of build A's archive", "a floor: the image's size is not known before it is built". */
  basis: string;
}

/**
 * The refusal, or undefined when `free` covers `need`. Pure, so the wording is tested: the stage,
 * how much, for what, where, what is free and what the estimate rests on.
 */
export function diskShortage(stage: string, dir: string, need: DiskNeed, what: string, free: number): string | undefined {
  if (free >= need.bytes) return undefined;
  return `${stage} needs about ${formatBytes(need.bytes)} free under ${dir} for ${what}, ${formatBytes(free)} is free (the estimate: ${need.basis}).`;
}

/** Throws (the stage exits 1) when the file system holding `dir` has less than `need` free. */
export async function requireFreeDisk(stage: string, dir: string, need: DiskNeed, what: string): Promise<void> {
  const message = diskShortage(stage, dir, need, what, await freeBytes(dir));
  if (message) throw new NotEnoughDisk(`${message} Free space on the runner first (old images, containers, caches) or use a runner with a larger disk.`);
}

/** A stage refused to start writing: the message names the need, the place and what is free. */
export class NotEnoughDisk extends Error {
  override name = 'NotEnoughDisk';
}

/**
 * The smallest need a stage checks when the image's own size is not known yet: 1 GiB. Below that
 * even a small image's export or load fails half-way, so refusing early loses nothing.
 */
export const DISK_FLOOR_BYTES = 1024 ** 3;

/** Where the engine keeps images and BuildKit's store, or undefined without a reachable docker. */
export async function dockerRootDir(): Promise<string | undefined> {
  const info = await runTimed('docker', ['info', '--format', '{{.DockerRootDir}}'], { timeoutMs: 30_000 });
  if (info.missing || info.exitCode !== 0) return undefined;
  const dir = info.stdout.trim();
  return dir.startsWith('/') ? dir : undefined;
}

/** One reading: the free bytes of each file system, by device id. */
export type DiskSample = Map<number, number>;

/**
 * Peak tracking over samples, pure: each file system's largest drop in free space since the first
 * sample, summed. Each disk must hold its own peak, and space another process frees on one disk
 * (a shared runner) must not hide what the stage wrote on another.
 */
export class PeakTracker {
  private start?: DiskSample;
  private readonly peaks = new Map<number, number>();

  add(sample: DiskSample): void {
    if (!this.start) {
      this.start = new Map(sample);
      return;
    }
    for (const [dev, free] of sample) {
      const at = this.start.get(dev);
      if (at !== undefined) this.peaks.set(dev, Math.max(this.peaks.get(dev) ?? 0, at - free));
    }
  }

  get peakBytes(): number {
    return [...this.peaks.values()].reduce((n, p) => n + p, 0);
  }
}

/** The paths' file systems, one path per device id (RUNNER_TEMP and the docker root are often one disk). */
export async function distinctFileSystems(paths: readonly string[]): Promise<Array<{ dev: number; path: string }>> {
  const seen = new Map<number, string>();
  for (const path of paths) {
    const at = await existingAncestor(path);
    const dev = await stat(at).then((s) => s.dev, () => undefined);
    if (dev !== undefined && !seen.has(dev)) seen.set(dev, at);
  }
  return [...seen].map(([dev, path]) => ({ dev, path }));
}

const SAMPLE_MS = 250;

/**
 * Samples free space every 250 ms on the file systems a stage writes to, from start() to stop().
 * The timer is unref'd, so it never keeps a finished process alive; a sample that fails is skipped.
 */
export class PeakDiskSampler {
  private readonly tracker = new PeakTracker();
  private timer?: NodeJS.Timeout;
  private fileSystems: Array<{ dev: number; path: string }> = [];
  private sampling?: Promise<void>;

  static async start(paths: readonly string[]): Promise<PeakDiskSampler> {
    const sampler = new PeakDiskSampler();
    sampler.fileSystems = await distinctFileSystems(paths);
    await sampler.sample();
    sampler.timer = setInterval(() => {
      sampler.sampling ??= sampler.sample().finally(() => (sampler.sampling = undefined));
    }, SAMPLE_MS);
    sampler.timer.unref();
    return sampler;
  }

  private async sample(): Promise<void> {
    const sample: DiskSample = new Map();
    for (const { dev, path } of this.fileSystems) {
      const fs = await statfs(path).catch(() => undefined);
      if (fs) sample.set(dev, fs.bavail * fs.bsize);
    }
    this.tracker.add(sample);
  }

  /** The peak so far, with one last sample. */
  async peakBytes(): Promise<number> {
    await this.sampling;
    await this.sample();
    return this.tracker.peakBytes;
  }

  /** Stops sampling; returns the peak extra disk in bytes. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    return this.peakBytes();
  }
}

/** The stage's sampler over RUNNER_TEMP's file system and, where docker runs, its root dir's. */
export function startStageSampler(tempDir: string, dockerRoot: string | undefined): Promise<PeakDiskSampler> {
  return PeakDiskSampler.start(dockerRoot ? [tempDir, dockerRoot] : [tempDir]);
}

/** "2.1 GiB (1.3× the image's compressed size)", or only the size when the image's is unknown. */
export function peakDiskText(peakBytes: number, imageBytes: number | undefined): string {
  const ratio = imageBytes && imageBytes > 0 ? ` (${(peakBytes / imageBytes).toFixed(2)}× the image's compressed size, ${formatBytes(imageBytes)})` : '';
  return `${formatBytes(peakBytes)}${ratio}`;
}
