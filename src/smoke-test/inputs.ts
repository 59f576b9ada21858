// smoke-test's inputs, parsed once into a typed object. The token is masked by the caller before
// this runs; nothing here prints a value.
import { isAbsolute, resolve } from 'node:path';
import { boolean, InputError, keyValuePairs, oneOf, optionalString, type InputSource } from '../action/inputs.js';
import { isGfxName } from '../rocm/gfx.js';
import { MODEL_CACHE_MODES, reservedDockerArg, type ModelCacheMode } from '../serve/docker-run.js';
import { envFileProblem } from '../serve/env-file.js';
import { shellWords } from '../serve/shell-words.js';

export const GPU_KINDS = ['amd', 'none'] as const;
export const DEFAULT_MODEL = 'Qwen/Qwen2.5-0.5B-Instruct';
export const DEFAULT_PROMPT = 'The capital of France is';

export interface SmokeTestInputs {
  /** A local image reference, or the path of an OCI/docker archive to load first. */
  image?: string;
  /** A host command line (argv) that starts the server, instead of image. */
  command?: string[];
  /** The server's arguments in the container (replacing CMD); unset: chosen from the image's entrypoint (src/serve/server-args.ts). */
  args?: string[];
  model: string;
  servedModelName?: string;
  port: number;
  gpu: (typeof GPU_KINDS)[number];
  expectedGfx?: string;
  env: Array<[string, string]>;
  hfToken?: string;
  /** Sent as a Bearer token to /v1/* (vLLM's --api-key); masked by the caller. */
  apiKey?: string;
  /** The Hugging Face cache on the host; read-only in the container unless model-cache-mode: rw. */
  modelCache?: { path: string; mode: ModelCacheMode };
  dockerArgs: string[];
  startupTimeoutSeconds: number;
  prompt: string;
  expect?: RegExp;
  maxTokens: number;
  requests: number;
  concurrency: number;
  /** Failed requests of the throughput run tolerated (an engine death always fails). */
  maxFailedRequests: number;
  probe: boolean;
  allowForkPullRequests: boolean;
}

function integerIn(get: InputSource, name: string, min: number, max: number, fallback: number): number {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new InputError(name, `must be an integer from ${min} to ${max} (got '${raw}')`);
  return Number(raw);
}

function words(get: InputSource, name: string): string[] | undefined {
  const raw = optionalString(get, name);
  if (raw === undefined) return undefined;
  try {
    return shellWords(raw.replace(/\r?\n/g, ' '), `Input '${name}'`);
  } catch (error) {
    throw new InputError(name, (error as Error).message.replace(/^Input '[^']+': /, ''));
  }
}

export function parseSmokeTestInputs(get: InputSource, workspace: string): SmokeTestInputs {
  const image = optionalString(get, 'image');
  const command = words(get, 'command');
  if ((image === undefined) === (command === undefined)) {
    throw new InputError('image', `set exactly one of 'image' (an image or an image archive) and 'command' (a host command line that starts the server)${image ? ', not both' : ''}`);
  }
  const model = optionalString(get, 'model') ?? DEFAULT_MODEL;
  const servedModelName = optionalString(get, 'served-model-name');
  const port = integerIn(get, 'port', 1, 65535, 8000);
  const gpu = oneOf(get, 'gpu', GPU_KINDS, 'amd');
  const expectedGfx = optionalString(get, 'expected-gfx');
  if (expectedGfx !== undefined && !isGfxName(expectedGfx)) throw new InputError('expected-gfx', `must be a gfx target such as gfx1151, gfx1100 or gfx942 (got '${expectedGfx}')`);
  const expectText = optionalString(get, 'expect');
  let expect: RegExp | undefined;
  if (expectText !== undefined) {
    try {
      expect = new RegExp(expectText);
    } catch (error) {
      throw new InputError('expect', `must be a regular expression (${(error as Error).message})`);
    }
  }
  const env = keyValuePairs(get, 'env');
  for (const [key] of env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new InputError('env', `'${key}' is not a variable name`);
    if (key === 'HF_TOKEN' || key === 'HF_TOKEN_PATH') throw new InputError('env', `must not set ${key}: use the hf-token input (a secret, masked, handed over as a read-only file)`);
    if (key === 'VLLM_API_KEY') throw new InputError('env', 'must not set VLLM_API_KEY: use the api-key input (a secret, masked; the server gets it as VLLM_API_KEY)');
  }
  for (const [key, value] of env) {
    const problem = envFileProblem(key, value);
    if (problem) throw new InputError('env', problem);
  }
  const modelCacheRaw = optionalString(get, 'model-cache');
  const modelCacheMode = oneOf(get, 'model-cache-mode', MODEL_CACHE_MODES, 'ro');
  const dockerArgs = words(get, 'docker-args') ?? [];
  const reserved = reservedDockerArg(dockerArgs);
  if (reserved) throw new InputError('docker-args', `must not set '${reserved}': the action names, labels, detaches and removes the container itself (--name, --label/-l, --label-file, --detach/-d, --rm), and post finds it by that label`);
  return {
    image: image === undefined ? undefined : looksLikePath(image) ? resolve(workspace, image) : image,
    command,
    args: words(get, 'args'),
    model,
    servedModelName,
    port,
    gpu,
    expectedGfx,
    env,
    hfToken: optionalString(get, 'hf-token'),
    apiKey: optionalString(get, 'api-key'),
    modelCache: modelCacheRaw === undefined ? undefined : { path: isAbsolute(modelCacheRaw) ? modelCacheRaw : resolve(workspace, modelCacheRaw), mode: modelCacheMode },
    dockerArgs,
    startupTimeoutSeconds: integerIn(get, 'startup-timeout-seconds', 1, 86_400, 900),
    prompt: optionalString(get, 'prompt') ?? DEFAULT_PROMPT,
    expect,
    maxTokens: integerIn(get, 'max-tokens', 1, 1_000_000, 32),
    requests: integerIn(get, 'requests', 0, 100_000, 16),
    concurrency: integerIn(get, 'concurrency', 1, 10_000, 4),
    maxFailedRequests: integerIn(get, 'max-failed-requests', 0, 100_000, 0),
    probe: boolean(get, 'probe', gpu === 'amd'),
    allowForkPullRequests: boolean(get, 'allow-fork-pull-requests', false),
  };
}

/** An archive path rather than an image reference: absolute, ./relative, or ending like an archive. */
function looksLikePath(value: string): boolean {
  return value.startsWith('/') || value.startsWith('./') || value.startsWith('../') || /\.(tar|tar\.gz|tgz|tar\.zst|oci)$/.test(value);
}
