// Workflow commands as the Actions runner reads them off a step's output, the masking it applies
// after `::add-mask::`, and how to print untrusted text so that none of its lines is a command.
//
// Modelled on actions/runner:
// - src/Runner.Common/ActionCommand.cs: TryParseV2 (`::name k=v,k=v::data`, after TrimStart) and
//   TryParse (legacy `##[name k=v;k=v]data`, found ANYWHERE in a line), with their unescaping;
// - src/Runner.Worker/ActionCommandManager.cs: V2 first, then legacy; command names compared
//   case-insensitively; `stop-commands` pauses every command (add-mask and annotations included)
//   until the token comes back as a command;
// - src/Runner.Worker/Handlers/NodeScriptActionHandler.cs + OutputManager.cs: stdout AND stderr
//   lines both go through one ActionCommandManager per step (Handler.cs creates it per handler);
// - src/Runner.Sdk/ProcessInvoker.cs: lines come from StreamReader.ReadLine, which ends a line at
//   \n, \r or \r\n.

export interface WorkflowCommand {
  /** As written; the runner matches names case-insensitively. */
  name: string;
  /** Keys lower-cased: the runner's property dictionary is OrdinalIgnoreCase. */
  properties: Record<string, string>;
  message: string;
}

/** The commands a runner registers (ActionCommandManager.cs: its extensions, and stop-commands). */
export const RUNNER_COMMANDS: readonly string[] = [
  'add-mask', 'add-matcher', 'add-path', 'debug', 'echo', 'endgroup', 'error', 'group', 'notice',
  'remove-matcher', 'save-state', 'set-env', 'set-output', 'stop-commands', 'warning',
];

/** A step's output as the runner splits it into lines (StreamReader.ReadLine). */
export function runnerLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

// ActionCommand.cs's mappings, applied in its order.
const unescape = (pairs: Array<[string, string]>) => (value: string): string => pairs.reduce((s, [from, to]) => s.split(from).join(to), value);
const unescapeLegacy = unescape([['%3B', ';'], ['%0D', '\r'], ['%0A', '\n'], ['%5D', ']'], ['%25', '%']]);
const unescapeData = unescape([['%0D', '\r'], ['%0A', '\n'], ['%25', '%']]);
const unescapeProperty = unescape([['%0D', '\r'], ['%0A', '\n'], ['%3A', ':'], ['%2C', ','], ['%25', '%']]);

/** .NET's char.IsWhiteSpace, which String.TrimStart() trims (not JavaScript's set: \u0085 is in, \uFEFF is out). */
const DOTNET_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const DOTNET_TRIM_START = new RegExp(`^[${DOTNET_SPACE}]+`);

function caseless(names: Iterable<string>): Set<string> {
  return new Set([...names].map((n) => n.toLowerCase()));
}
const DEFAULT_REGISTERED = caseless(RUNNER_COMMANDS);

/** `k=v` pairs: split on the first '='; .NET's Split(count 2, RemoveEmptyEntries) drops a pair with an empty side. */
function properties(pairs: string[], unescapeValue: (v: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1).replace(/^=+/, '');
    if (key && value) out[key.toLowerCase()] = unescapeValue(value);
  }
  return out;
}

function named(cmdInfo: string, registered: Set<string>): { name: string; rest: string | undefined } | undefined {
  const space = cmdInfo.indexOf(' ');
  const name = space < 0 ? cmdInfo : cmdInfo.slice(0, space);
  if (!registered.has(name.toLowerCase())) return undefined;
  return { name, rest: space > 0 ? cmdInfo.slice(space + 1) : undefined };
}

/** ActionCommand.TryParseV2: `::name k=v,k=v::data` once leading whitespace is trimmed. */
export function parseCommandV2(line: string, registered: Set<string> = DEFAULT_REGISTERED): WorkflowCommand | undefined {
  const message = line.replace(DOTNET_TRIM_START, '');
  if (!message.startsWith('::')) return undefined;
  const end = message.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = named(message.slice(2, end), registered);
  if (!info) return undefined;
  const props = info.rest === undefined ? {} : properties(info.rest.replace(DOTNET_TRIM_START, '').replace(new RegExp(`[${DOTNET_SPACE}]+$`), '').split(',').filter(Boolean), unescapeProperty);
  return { name: info.name, properties: props, message: unescapeData(message.slice(end + 2)) };
}

/** ActionCommand.TryParse: the first `##[` anywhere in the line, `name k=v;k=v` up to `]`, then data. */
export function parseCommandLegacy(line: string, registered: Set<string> = DEFAULT_REGISTERED): WorkflowCommand | undefined {
  const prefix = line.indexOf('##[');
  if (prefix < 0) return undefined;
  const rb = line.indexOf(']', prefix);
  if (rb < 0) return undefined;
  const info = named(line.slice(prefix + 3, rb), registered);
  if (!info) return undefined;
  const props = info.rest === undefined ? {} : properties(info.rest.split(';').filter(Boolean), unescapeLegacy);
  return { name: info.name, properties: props, message: unescapeLegacy(line.slice(rb + 1)) };
}

/** One line as the runner parses it (V2 first, then legacy), or undefined for a plain line. */
export function parseWorkflowCommand(line: string, registered: Set<string> = DEFAULT_REGISTERED): WorkflowCommand | undefined {
  return parseCommandV2(line, registered) ?? parseCommandLegacy(line, registered);
}

/**
 * One step's command processing (ActionCommandManager.TryProcessCommand), shared by its stdout and
 * stderr: `read` gives the command the runner would act on, or undefined for a line it prints.
 * While stopped, only `::<token>::` (either form) is a command, and it resumes processing.
 */
export class CommandReader {
  private registered = new Set(DEFAULT_REGISTERED);
  private stopToken: string | undefined;

  read(line: string): WorkflowCommand | undefined {
    if (!line) return undefined;
    const command = parseWorkflowCommand(line, this.registered);
    if (!command) return undefined;
    const name = command.name.toLowerCase();
    if (this.stopToken !== undefined) {
      if (name !== this.stopToken) return undefined;
      this.registered.delete(this.stopToken);
      this.stopToken = undefined;
      return command;
    }
    if (name === 'stop-commands') {
      const token = command.message.toLowerCase();
      // ValidateStopToken: an empty token, a command's name or pause-logging fails the step.
      if (!token || this.registered.has(token) || token === 'pause-logging') throw new Error(`::stop-commands:: with an unsupported token '${command.message}'`);
      this.stopToken = token;
      this.registered.add(token);
    }
    return command;
  }

  get stopped(): boolean {
    return this.stopToken !== undefined;
  }
}

/** Characters .NET's culture-sensitive IndexOf/StartsWith may skip over (so never rely on inserting them). */
const IGNORABLE = '\\p{Default_Ignorable_Code_Point}';
const LEGACY_PREFIX = new RegExp(`#(${IGNORABLE}*)#(${IGNORABLE}*)\\[`, 'gu');
const V2_START = new RegExp(`^([${DOTNET_SPACE}\\s${IGNORABLE}]*)(:${IGNORABLE}*:)`, 'u');

/**
 * One line of untrusted text that no runner reads as a command: a backslash after every `##[`
 * (what the runner itself does to `##[start-action` in OutputManager.cs) and before a leading `::`.
 * Visible ASCII only, so it holds whatever the runner's culture-sensitive matching skips.
 */
function neutraliseLine(line: string): string {
  return line.replace(LEGACY_PREFIX, '#$1#$2[\\').replace(V2_START, '$1\\$2');
}

/**
 * Untrusted text (a build's log, a server's output) made safe to print: every line the runner
 * would see (split at \n, \r and \r\n) is neutralised; the line breaks themselves are kept.
 */
export function neutraliseCommands(text: string): string {
  return text.replace(/[^\r\n]+/g, neutraliseLine);
}

/**
 * The text by which a secret is recognised: the whole value, and for a multi-line secret (a key,
 * a netrc) each line long enough to be telling on its own (PEM armour lines are not).
 */
export function secretPieces(secret: string): string[] {
  const lines = secret.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 8 && !/^-----[A-Z ]+-----$/.test(l));
  return [...new Set([secret, ...(lines.length > 1 || secret.includes('\n') ? lines : [])])];
}

/** Replaces every registered secret with ***, longest first so a secret's substring never shows its rest. */
export class Masker {
  private pieces: string[] = [];

  add(secret: string): void {
    if (!secret) return;
    this.pieces = [...new Set([...this.pieces, ...secretPieces(secret)])].sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let out = text;
    for (const piece of this.pieces) out = out.split(piece).join('***');
    return out;
  }
}

/**
 * What a step leaves for later: state and outputs set by `save-state`/`set-output` commands while
 * it ran, then its GITHUB_STATE/GITHUB_OUTPUT files, which the runner processes after the step
 * (FileCommandManager.cs) and so win for the names they set. Names are case-insensitive
 * (ExecutionContext.IntraActionState is OrdinalIgnoreCase); the first spelling is kept.
 */
export function stepValues(commands: WorkflowCommand[], command: 'save-state' | 'set-output', file: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (name: string, value: string): void => {
    const existing = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase());
    out[existing ?? name] = value;
  };
  for (const c of commands) if (c.name.toLowerCase() === command && c.properties.name) set(c.properties.name, c.message);
  for (const [name, value] of Object.entries(file)) set(name, value);
  return out;
}
