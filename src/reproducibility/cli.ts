// Command line of the comparison engine (no GitHub dependency):
//   node lib/src/reproducibility/cli.js A B [--json report.json] [--markdown summary.md]
//        [--platform os/arch] [--max-differences N per cause] [--no-artifacts]
//   node lib/src/reproducibility/cli.js describe IMAGE --out description.json[.gz]
// A and B are images (OCI archive, OCI layout directory, docker-archive, plain or gzip'ed) or
// descriptions written by `describe` (.json or .json.gz). Exit 0: reproducible, 1: the images
// differ, 2: error (unreadable or corrupt input, bad usage).
import { stat, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compareImages } from './compare.js';
import { compareDescriptions, describeImage, readDescription, writeDescription, type ImageDescription } from './describe.js';
import { entriesSentence, renderMarkdown, SHORT } from './markdown.js';
import type { ComparisonReport, FixLine } from './types.js';

const USAGE = `usage:
  cli.js A B [--json report.json] [--markdown summary.md] [--platform os/arch] [--max-differences N] [--no-artifacts]
  (--max-differences: entries the JSON lists per cause; default 1000 shared by all causes)
  cli.js describe IMAGE --out description.json[.gz]
A and B: an OCI archive, an OCI layout directory, a docker-archive (plain or gzip'ed), or a description (.json, .json.gz).
Exit status: 0 reproducible, 1 the images differ, 2 error.`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parse(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const valued = new Set(['--json', '--markdown', '--platform', '--max-differences', '--out']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') flags.set('--help', true);
    else if (arg === '--no-artifacts') flags.set(arg, true);
    else if (valued.has(arg)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      flags.set(arg, v);
    } else if (arg.startsWith('--') && valued.has(arg.split('=')[0]!)) flags.set(arg.split('=')[0]!, arg.slice(arg.indexOf('=') + 1));
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  return { positional, flags };
}

async function isDescriptionPath(path: string): Promise<boolean> {
  if (!/\.json(\.gz)?$/.test(path)) return false;
  const info = await stat(path).catch(() => undefined);
  return !!info?.isFile();
}

/** At most this many lines go to stdout per cause; the order is the report's (rarest cause first). */
const ROWS_PER_CAUSE = 3;

export function textSummary(report: ComparisonReport): string {
  const lines = [`${report.reproducible ? 'REPRODUCIBLE' : 'NOT REPRODUCIBLE'}${!report.reproducible && report.contentReproducible ? ' (same content, different packaging)' : ''}`];
  const { most, rarest } = report.fixFirst;
  if (!report.reproducible && most.length > 0) {
    const line = (l: FixLine, i: number): string => `  ${i + 1}. ${l.fixLabel}: removes ${l.count} (${l.kinds.join(', ')}; e.g. ${l.examples.join(', ')})`;
    lines.push('What to fix first (most differences):', ...most.map(line));
    if (rarest.length > 0) lines.push('Rarest causes (each its own problem):', ...rarest.map(line));
  }
  lines.push(`A ${report.digestA} (${report.a.kind}) ${report.a.input}`, `B ${report.digestB} (${report.b.kind}) ${report.b.input}`);
  if (!report.reproducible) {
    const entries = entriesSentence(report);
    lines.push(`${report.counts.total} differences${entries ? `; ${entries}` : ''}`);
    lines.push('Causes, rarest first:');
    for (const c of report.causes) {
      lines.push(`  ${String(c.count).padStart(7)}  ${c.kind}${c.consequence ? ' (consequence)' : ''}: ${SHORT[c.kind]}; e.g. ${c.examples.join(', ')}`);
      lines.push(`           fix: ${c.fix}`);
    }
    lines.push(`Differences by cause (first ${ROWS_PER_CAUSE} of each; --json has up to ${report.differences.length} in all):`);
    const shown = new Map<string, number>();
    for (const d of report.differences) {
      const n = shown.get(d.kind) ?? 0;
      if (n >= ROWS_PER_CAUSE) continue;
      shown.set(d.kind, n + 1);
      const where = `${d.where}${d.layer ? `[${d.layer.index}]` : ''}`;
      lines.push(`  [${d.kind}] ${where} ${d.path ?? ''} ${d.field}: ${JSON.stringify(d.a)} -> ${JSON.stringify(d.b)}${d.detail ? ` (${d.detail})` : ''}`);
    }
  }
  const s = report.stats;
  lines.push(`read ${(s.bytesRead / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(2)} s (${s.throughputMBps.toFixed(0)} MB/s), walked ${(s.bytesWalked / 1e6).toFixed(1)} MB`);
  return lines.join('\n');
}

/** Only a side given as a description file is one: an image read here is labelled as the image it is. */
function labelSides(report: ComparisonReport, sides: { a: { description: boolean; kind: string }; b: { description: boolean; kind: string } }): void {
  report.a.kind = sides.a.description ? `${sides.a.kind} (description)` : sides.a.kind;
  report.b.kind = sides.b.description ? `${sides.b.kind} (description)` : sides.b.kind;
}

export async function main(argv: string[], log: (line: string) => void = console.log, error: (line: string) => void = console.error): Promise<number> {
  try {
    const { positional, flags } = parse(argv);
    if (flags.has('--help')) {
      log(USAGE);
      return 0;
    }
    const detectArtifacts = !flags.has('--no-artifacts');
    if (positional[0] === 'describe') {
      const out = flags.get('--out');
      if (positional.length !== 2 || typeof out !== 'string') throw new UsageError('describe needs IMAGE and --out FILE');
      const description = await describeImage(positional[1]!, { detectArtifacts });
      await writeDescription(description, out);
      const files = description.images.reduce((n, i) => n + i.layers.reduce((m, l) => m + l.files.length, 0), 0);
      log(`${description.top.digest} ${files} entries described in ${description.stats.seconds.toFixed(2)} s -> ${out}`);
      return 0;
    }
    if (positional.length !== 2) throw new UsageError('expected two images');
    const [inputA, inputB] = positional as [string, string];
    const maxFlag = flags.get('--max-differences');
    const maxDifferences = typeof maxFlag === 'string' ? Number(maxFlag) : undefined;
    if (maxDifferences !== undefined && !(Number.isInteger(maxDifferences) && maxDifferences >= 0)) throw new UsageError('--max-differences needs a whole number');
    const platform = typeof flags.get('--platform') === 'string' ? (flags.get('--platform') as string) : undefined;
    const options = { platform, maxDifferences, detectArtifacts };

    const descA = await isDescriptionPath(inputA);
    const descB = await isDescriptionPath(inputB);
    let report: ComparisonReport;
    if (!descA && !descB) {
      report = await compareImages(inputA, inputB, options);
    } else {
      let bytesRead = 0;
      const load = async (input: string, isDescription: boolean): Promise<ImageDescription> => {
        if (!isDescription) return describeImage(input, { detectArtifacts });
        const { description, bytes } = await readDescription(input);
        bytesRead += bytes;
        return description;
      };
      const [a, b] = await Promise.all([load(inputA, descA), load(inputB, descB)]);
      bytesRead += (descA ? 0 : a.stats.bytesRead) + (descB ? 0 : b.stats.bytesRead);
      report = await compareDescriptions(a, b, { ...options, bytesRead });
      labelSides(report, { a: { description: descA, kind: a.kind }, b: { description: descB, kind: b.kind } });
    }
    const json = flags.get('--json');
    if (typeof json === 'string') await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
    const markdown = flags.get('--markdown');
    if (typeof markdown === 'string') await writeFile(markdown, renderMarkdown(report));
    log(textSummary(report));
    return report.reproducible ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) error(`${e.message}\n${USAGE}`);
    else error(`error: ${(e as Error).message}`);
    return 2;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: Error) => {
      console.error(`error: ${e.message}`);
      process.exitCode = 2;
    },
  );
}
