// Which SOURCE_DATE_EPOCH a build uses, and where it came from (the summary shows both).
//
// The default is the constant 0, as Nix's dockerTools uses: BuildKit's rewrite-timestamp only
// clamps mtimes NEWER than the epoch, and a layer taken from a cache keeps the wall-clock mtimes
// of the build that made it. With a moving epoch (a commit time) those older mtimes survive
// while a clean build's are clamped, so the digest would depend on the cache. Every file time is
// newer than 0, so with 0 every layer, cached or not, is clamped alike. docs/architecture.md.
import { InputError } from '../action/inputs.js';

export type EpochSource = 'default' | 'source-date-epoch input' | 'SOURCE_DATE_EPOCH build-arg' | 'SOURCE_DATE_EPOCH environment variable';

export interface SourceDateEpoch {
  value: number;
  source: EpochSource;
}

export const DEFAULT_EPOCH: SourceDateEpoch = { value: 0, source: 'default' };

const INTEGER = /^\d+$/;

/** The epoch from the inputs: `source-date-epoch`, or a SOURCE_DATE_EPOCH build arg (they must agree). */
export function epochFromInputs(input: number | undefined, buildArg: string | undefined): SourceDateEpoch | undefined {
  if (buildArg !== undefined) {
    const value = buildArg.trim();
    if (!INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new InputError('build-args', `SOURCE_DATE_EPOCH must be a non-negative integer, seconds since 1970 (got '${value}')`);
    }
    if (input !== undefined && input !== Number(value)) {
      throw new InputError('build-args', `SOURCE_DATE_EPOCH=${value} contradicts source-date-epoch: ${input}; set only one`);
    }
    if (input === undefined) return { value: Number(value), source: 'SOURCE_DATE_EPOCH build-arg' };
  }
  return input === undefined ? undefined : { value: input, source: 'source-date-epoch input' };
}

/** Inputs first, then SOURCE_DATE_EPOCH from the environment (as build-push-action honours it), then 0. */
export function resolveEpoch(fromInputs: SourceDateEpoch | undefined, env: NodeJS.ProcessEnv): SourceDateEpoch {
  if (fromInputs) return fromInputs;
  const value = env.SOURCE_DATE_EPOCH?.trim();
  if (value === undefined || value === '') return DEFAULT_EPOCH;
  if (!INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(`SOURCE_DATE_EPOCH in the environment is '${value}': it must be a non-negative integer (seconds since 1970), or unset`);
  }
  return { value: Number(value), source: 'SOURCE_DATE_EPOCH environment variable' };
}

/** The summary's wording: the value, its date, and where it came from. */
export function describeEpoch(epoch: SourceDateEpoch): string {
  const date = new Date(epoch.value * 1000).toISOString().replace('.000Z', 'Z');
  return `${epoch.value} (${date}; ${epoch.source})`;
}
