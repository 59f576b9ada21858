// Command line of the comparison engine (no GitHub dependency):
//   node lib/src/reproducibility/cli.js A B [--json report.json] [--markdown summary.md]
//        [--platform os/arch] [--max-differences N] [--no-artifacts]
//   node lib/src/reproducibility/cli.js describe IMAGE --out description.json[.gz]
// A and B are images (OCI archive, OCI layout directory, docker-archive, plain or gzip'ed) or
// descriptions written by `describe` (.json or .json.gz). Exit 0: reproducible, 1: the images
// differ, 2: error (unreadable or corrupt input, bad usage).
import { stat, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { compareImages } from './compare.js';
import { compareDescriptions, describeImage, readDescription, writeDescription, type ImageDescription } from './describe.js';
import { renderMarkdown } from './markdown.js';
import type { ComparisonReport } from './types.js';

const USAGE = `usage:
  cli.js A B [--json report.json] [--markdown summary.md] [--platform os/arch] [--max-differences N] [--no-artifacts]
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

function textSummary(report: ComparisonReport): string {
  const lines = [
    `${report.reproducible ? 'REPRODUCIBLE' : 'NOT REPRODUCIBLE'}${!report.reproducible && report.contentReproducible ? ' (same content, different packaging)' : ''}`,
    `A ${report.digestA} (${report.a.kind}) ${report.a.input}`,
    `B ${report.digestB} (${report.b.kind}) ${report.b.input}`,
  ];
  if (!report.reproducible) {
    lines.push(`${report.counts.total} differences; ${report.counts.filesDiffering} of ${report.counts.filesCompared} compared layer entries differ`);
    for (const c of report.causes.slice(0, 10)) lines.push(`  ${String(c.count).padStart(7)}  ${c.kind}: ${c.fix}`);
    for (const d of report.differences.slice(0, 10)) {
      lines.push(`  ${d.where}${d.layer ? `[${d.layer.index}]` : ''} ${d.path ?? ''} ${d.field}: ${JSON.stringify(d.a)} -> ${JSON.stringify(d.b)}`);
    }
  }
  const s = report.stats;
  lines.push(`read ${(s.bytesRead / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(2)} s (${s.throughputMBps.toFixed(0)} MB/s), walked ${(s.bytesWalked / 1e6).toFixed(1)} MB`);
  return lines.join('\n');
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
