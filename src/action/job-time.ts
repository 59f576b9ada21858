// A stage's wall-clock time split by phase, for the summary: main records its phases, post adds
// the cache save and writes the table, so the user sees where the whole job's time went.
import { peakDiskText } from '../tool/free-disk.js';
import { scopedPostStateKey } from './claims.js';
import { refuseState, stateObject } from './post-state.js';
import { saveScopedState, scopedState } from './scope.js';
import { writeTableSummary } from './summary.js';

// Scoped: the pipeline's builder: both runs build-docker and build-nix in one step, each in its scope.
const STATE_KEY = scopedPostStateKey('job-time');
const DISK_KEY = scopedPostStateKey('peak-disk');

/** Phases in order: [what, seconds]. */
export type Phases = Array<[string, number]>;

export function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** Main: its phases, plus "other" for what they leave out of main's wall time (checks, reading the image). */
export function saveMainPhases(phases: Phases, mainSeconds: number): Phases {
  const measured = phases.reduce((n, [, s]) => n + s, 0);
  const all: Phases = [...phases, ['other (checks, reading the image, …)', Math.max(0, mainSeconds - measured)]];
  saveScopedState(STATE_KEY, JSON.stringify(all));
  return all;
}

/** The table rows: each phase with its share of the total, then the total. */
export function phaseRows(phases: Phases): Array<[string, string]> {
  const total = phases.reduce((n, [, s]) => n + s, 0);
  const share = (s: number): string => (total > 0 ? ` (${Math.round((100 * s) / total)} %)` : '');
  return [...phases.map(([name, s]): [string, string] => [name, `${s.toFixed(1)} s${share(s)}`]), ['**total**', `**${total.toFixed(1)} s**`]];
}

/** Main's peak extra disk (src/tool/free-disk.ts's sampler) and the image's compressed size. */
export interface PeakDisk {
  peakBytes: number;
  imageBytes?: number;
}

export function savePeakDisk(disk: PeakDisk): void {
  saveScopedState(DISK_KEY, JSON.stringify(disk));
}

/** The table's disk row, after the total: the stage's peak extra disk against its image. */
export function peakDiskRow(disk: PeakDisk): [string, string] {
  return ['peak extra disk', peakDiskText(disk.peakBytes, disk.imageBytes)];
}

/** Post: main's phases and this post's save, as one table, with main's peak extra disk. */
export async function writeJobTimeSummary(saveSeconds: number, saveName = 'save the cache (post)'): Promise<void> {
  const text = scopedState(STATE_KEY);
  if (!text) return;
  const saved = savedPhases(text);
  if (!saved) return;
  const phases: Phases = [...saved, [saveName, saveSeconds]];
  const diskText = scopedState(DISK_KEY);
  const disk = diskText ? savedPeakDisk(diskText) : undefined;
  await writeTableSummary('Job time by phase', [...phaseRows(phases), ...(disk ? [peakDiskRow(disk)] : [])]);
}

/** A byte count as main would have measured it: a whole number, at most 1 PiB. */
const isByteCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= 2 ** 50;

/** Main's peak disk, checked: state can be forged by a build's output (src/action/post-state.ts). */
export function savedPeakDisk(text: string): PeakDisk | undefined {
  const value = stateObject('peak disk', text);
  if (!value) return undefined;
  const { peakBytes, imageBytes } = value;
  if (!isByteCount(peakBytes) || (imageBytes !== undefined && !isByteCount(imageBytes)) || Object.keys(value).some((k) => k !== 'peakBytes' && k !== 'imageBytes')) {
    return refuseState('peak disk', 'it is not a byte count and an image size');
  }
  return { peakBytes, imageBytes };
}

/** The stages' own phase names are plain words; anything that could shape the summary's Markdown is refused. */
const PHASE_NAME = /^[\p{L}\p{N} ,.:/…-]+(?: \([\p{L}\p{N} ,.:/…-]+\))?$/u;

/** Main's phases, checked: state can be forged by a build's output (src/action/post-state.ts). */
export function savedPhases(text: string): Phases | undefined {
  const refuse = (): undefined => refuseState('job time', 'it is not a list of phases with their seconds');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse();
  }
  if (!Array.isArray(value) || value.length > 32) return refuse();
  const phase = (p: unknown): p is [string, number] =>
    Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && p[0].length <= 80 && PHASE_NAME.test(p[0]) && Number.isFinite(p[1]) && (p[1] as number) >= 0;
  return value.every(phase) ? value : refuse();
}
