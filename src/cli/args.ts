// The command line's arguments: `<stage|pipeline> --<input> <value> …` checked against the
// action's action.yml, so a typo is an error naming the closest input rather than a silent default.
import type { ActionMetadata } from '../runner/action-metadata.js';
import { editDistance } from '../tool/edit-distance.js';

/** A mistake in the arguments: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command line's own options; every other --name is an input of the action. */
export const CLI_FLAGS = ['help', 'debug'] as const;
export const CLI_OPTIONS = ['workspace'] as const;

export interface ParsedArgs {
  command?: string;
  help: boolean;
  debug: boolean;
  workspace?: string;
  /** In order, repeats kept: `--name value` and `--name=value`. */
  options: Array<[string, string]>;
  /** Words after the command that belong to no --name. */
  extra: string[];
}

export function parseArgv(argv: string[]): ParsedArgs {
  const parsed: ParsedArgs = { help: false, debug: false, options: [], extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      parsed.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (parsed.command === undefined) parsed.command = arg;
      else parsed.extra.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (name === 'debug') {
      if (eq !== -1) throw new UsageError('--debug takes no value');
      parsed.debug = true;
      continue;
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i]!;
    else {
      // A mistyped flag at the end (--hlep) is more likely than a missing value.
      const flag = closestName(name, [...CLI_FLAGS]);
      throw new UsageError(flag && flag !== name ? `unknown option --${name} (did you mean --${flag}?)` : `--${name} needs a value (--${name} VALUE or --${name}=VALUE)`);
    }
    if (name === 'workspace') parsed.workspace = value;
    else parsed.options.push([name, value]);
  }
  return parsed;
}

/** The candidate nearest to `name`, when it is near enough to be what was meant. */
export function closestName(name: string, candidates: string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    // An abbreviation (--cache-r) is as near as one typo.
    const d = c.startsWith(name) ? Math.min(editDistance(name, c), 1) : editDistance(name, c);
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.c : undefined;
}

/**
 * The INPUT_ values an action gets: given inputs (a repeated one joined by newlines, as a
 * multi-line input), checked against action.yml; unset ones are left to their defaults.
 */
export function resolveInputs(command: string, meta: ActionMetadata, args: Pick<ParsedArgs, 'options' | 'extra'>): Record<string, string> {
  const specs = meta.inputs ?? {};
  const names = Object.keys(specs);
  const given: Record<string, string[]> = {};
  for (const [name, value] of args.options) {
    // `--verify --smoke-test true`: --verify took the next input's name as its value.
    if (value.startsWith('--') && value.slice(2) in specs) throw new UsageError(`--${name} needs a value before ${value} (e.g. --${name} true)`);
    if (!(name in specs)) {
      const near = closestName(name, [...names, ...CLI_OPTIONS, ...CLI_FLAGS]);
      throw new UsageError(`${command} has no input --${name}${near ? ` (did you mean --${near}?)` : ''}; \`vllm-rocm-action ${command} --help\` lists its inputs`);
    }
    (given[name] ??= []).push(value);
  }
  if (args.extra.length) throw new UsageError(`unexpected argument '${args.extra[0]}': inputs are given as --name value`);
  const missing = names.filter((n) => specs[n]!.required && (specs[n]!.default ?? '') === '' && !(given[n] ?? []).some((v) => v.trim() !== ''));
  if (missing.length) {
    throw new UsageError(missing.map((n) => `${command}: missing required input --${n}${specs[n]!.description ? ` (${specs[n]!.description})` : ''}`).join('\n'));
  }
  return Object.fromEntries(Object.entries(given).map(([name, values]) => [name, values.join('\n')]));
}
