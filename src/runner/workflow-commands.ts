// Workflow commands (`::name key=value,…::message`) as a step prints them on stdout, and the
// masking the runner applies after `::add-mask::`.

export interface WorkflowCommand {
  name: string;
  properties: Record<string, string>;
  message: string;
}

function unescapeData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function unescapeProperty(value: string): string {
  return unescapeData(value).replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** One stdout line as a workflow command, or undefined for a plain line. */
export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const m = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
  if (!m) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of (m[2] ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) properties[pair.slice(0, eq).trim()] = unescapeProperty(pair.slice(eq + 1));
  }
  return { name: m[1]!, properties, message: unescapeData(m[3]!) };
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
