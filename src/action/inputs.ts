// Input parsing shared by every stage. Parsers take an InputSource so the typed-input
// builders stay pure and unit-testable; the action layer passes core.getInput.
import * as core from '@actions/core';

/** A bad input: the message names the input and says what is allowed. */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
    this.input = input;
  }
}

/** Reads one input's raw value ('' when unset), as core.getInput does. */
export type InputSource = (name: string) => string;

export const actionInputs: InputSource = (name) => core.getInput(name);

export function optionalString(get: InputSource, name: string): string | undefined {
  const value = get(name).trim();
  return value === '' ? undefined : value;
}

export function requiredString(get: InputSource, name: string, why = 'it is required'): string {
  const value = optionalString(get, name);
  if (value === undefined) throw new InputError(name, `must be set (${why})`);
  return value;
}

export function oneOf<T extends string>(get: InputSource, name: string, allowed: readonly T[], fallback: T): T {
  const value = get(name).trim();
  if (value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InputError(name, `must be one of ${allowed.join(', ')} (got '${value}')`);
}

export function boolean(get: InputSource, name: string, fallback: boolean): boolean {
  const value = get(name).trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InputError(name, `must be true or false (got '${get(name).trim()}')`);
}

/** Newline-separated values; blank lines and surrounding spaces dropped. Commas are kept (values may hold them). */
export function lines(get: InputSource, name: string): string[] {
  return get(name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** Newline- or comma-separated values. */
export function list(get: InputSource, name: string): string[] {
  return lines(get, name).flatMap((line) => line.split(',').map((item) => item.trim()).filter((item) => item !== ''));
}

/** Newline-separated KEY=VALUE pairs, spaces around `=` trimmed (`A = b` is A=b); order kept, later keys win. */
export function keyValuePairs(get: InputSource, name: string): Array<[string, string]> {
  const pairs = new Map<string, string>();
  for (const line of lines(get, name)) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InputError(name, `each line must be KEY=VALUE (got '${line}')`);
    pairs.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return [...pairs];
}

export function nonNegativeInteger(get: InputSource, name: string): number | undefined {
  const value = optionalString(get, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InputError(name, `must be a non-negative integer (got '${value}')`);
  }
  return Number(value);
}
