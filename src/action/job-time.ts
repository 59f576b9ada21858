// A stage's wall-clock time split by phase, for the summary: main records its phases, post adds
// the cache save and writes the table, so the user sees where the whole job's time went.
import { saveScopedState, scopedState } from './scope.js';
import { writeTableSummary } from './summary.js';

// Scoped: the pipeline's builder: both runs build-docker and build-nix in one step, each in its scope.
const STATE_KEY = 'job-time';

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

/** Post: main's phases and this post's save, as one table. */
export async function writeJobTimeSummary(saveSeconds: number, saveName = 'save the cache (post)'): Promise<void> {
  const text = scopedState(STATE_KEY);
  if (!text) return;
  const phases = [...(JSON.parse(text) as Phases), [saveName, saveSeconds]] as Phases;
  await writeTableSummary('Job time by phase', phaseRows(phases));
}
