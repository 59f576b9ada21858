// The server's default arguments, chosen from the image's own config. `args` replaces the image's
// CMD and keeps its ENTRYPOINT, so what they must hold depends on that entrypoint:
//   - none: the arguments are the whole command, `vllm serve <model> --host … --port …`;
//   - one that starts the server (upstream's vllm/vllm-openai-rocm has ENTRYPOINT ["vllm", "serve"],
//     docker/Dockerfile.rocm; the template's images run bin/vllm-server): engine arguments only,
//     `<model> --host … --port …`. Giving those `vllm serve` again makes vLLM's argparse exit 2 with
//     "unrecognized arguments: serve <model>".
//   - an init that runs its arguments (tini, dumb-init): as none.
// The rule is that an entrypoint starts the server unless it is such an init: an image whose
// entrypoint is a wrapper that execs "$@" must be given `args` explicitly.
import { runTimed } from '../tool/timed.js';

export interface ServerArgsChoice {
  args: string[];
  /** One line for the log and the summary: which form was chosen, and why. */
  reason: string;
}

export interface EngineArgsOptions {
  model: string;
  port: number;
  servedModelName?: string;
}

/** Inits that exec their arguments: the command after them is still the caller's to give. */
const PASS_THROUGH_INITS = new Set(['tini', 'tini-static', 'dumb-init', 'catatonit']);

function passesThrough(entrypoint: readonly string[]): boolean {
  const base = entrypoint[0]!.split('/').pop()!;
  return PASS_THROUGH_INITS.has(base) && entrypoint.slice(1).every((a) => a.startsWith('-'));
}

/** The default for an image whose Config.Entrypoint is `entrypoint` (null or [] for none). */
export function defaultServerArgs(entrypoint: readonly string[] | null, opts: EngineArgsOptions): ServerArgsChoice {
  const engine = [opts.model, '--host', '0.0.0.0', '--port', String(opts.port), ...(opts.servedModelName ? ['--served-model-name', opts.servedModelName] : [])];
  const shown = JSON.stringify(entrypoint ?? []);
  if (!entrypoint || entrypoint.length === 0) return { args: ['vllm', 'serve', ...engine], reason: 'the image has no ENTRYPOINT, so the arguments are the command: `vllm serve` and the engine arguments' };
  if (passesThrough(entrypoint)) return { args: ['vllm', 'serve', ...engine], reason: `the image's ENTRYPOINT ${shown} is an init that runs its arguments, so they are the command: \`vllm serve\` and the engine arguments` };
  return { args: engine, reason: `the image's ENTRYPOINT ${shown} starts the server, so the arguments are engine arguments only (no \`vllm serve\`)` };
}

/** Config.Entrypoint of a local image (`docker image inspect`); null when it has none. */
export async function imageEntrypoint(image: string): Promise<string[] | null> {
  const run = await runTimed('docker', ['image', 'inspect', '--format', '{{json .Config.Entrypoint}}', image], { timeoutMs: 30_000 });
  if (run.missing) throw new Error('docker is not installed or not on PATH');
  if (run.exitCode !== 0) throw new Error(`docker image inspect ${image} failed: ${run.stderr.trim().split('\n').slice(-2).join(' ')}`);
  return parseEntrypoint(run.stdout);
}

/** `{{json .Config.Entrypoint}}` output: null, or an array of strings (anything else is refused). */
export function parseEntrypoint(json: string): string[] | null {
  let value: unknown;
  try {
    value = JSON.parse(json.trim());
  } catch {
    throw new Error(`docker image inspect printed an entrypoint that is not JSON: ${json.trim().slice(0, 200)}`);
  }
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`the image's entrypoint is not a list of strings: ${json.trim().slice(0, 200)}`);
  return value as string[];
}
