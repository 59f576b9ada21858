// smoke-test's inputs, parsed once into a typed object. The token is masked by the caller before
// this runs; nothing here prints a value.
import { isAbsolute, resolve } from 'node:path';
import { boolean, InputError, keyValuePairs, list, oneOf, optionalString, type InputSource } from '../action/inputs.js';
import { isGfxName } from '../rocm/gfx.js';
import { MODEL_CACHE_MODES, reservedDockerArg, type ModelCacheMode } from '../serve/docker-run.js';
import { envFileProblem } from '../serve/env-file.js';
import { shellWords } from '../serve/shell-words.js';

/** What the throughput run sends; a baseline compares only under the same settings. */
export interface LoadSettings {
  inputLen: number;
  outputLen: number;
  seed: number;
  /** Requests per second (a Poisson process), or 'inf': all at once. */
  requestRate: number | 'inf';
  /** One run per value (a sweep), in this order. */
  concurrency: number[];
}

/** The performance gate: absolute limits, and a baseline to compare with. */
export interface GateSettings {
  minTokensPerSecond?: number;
  maxTtftMs?: number;
  maxP99LatencyMs?: number;
  maxRegressionPercent: number;
  /** A report file (resolved in the workspace), or an image whose smoke-test attestation is read. */
  baseline?: { kind: 'file'; path: string } | { kind: 'image'; ref: string };
  /** How the baseline image's attestation is verified: a public key (PEM), or a keyless identity. */
  baselineKey?: string;
  baselineIdentity?: { identity: string; issuer: string };
  /** false: accept a baseline attestation that is not in Rekor (attested with transparency-log: false). */
  baselineTransparencyLog: boolean;
}

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
  /** The throughput run's load, as `vllm bench serve` sets it (src/serve/dataset.ts). */
  load: LoadSettings;
  /** Failed requests of the throughput run tolerated (an engine death always fails). */
  maxFailedRequests: number;
  gate: GateSettings;
  probe: boolean;
  allowForkPullRequests: boolean;
}

function integerIn(get: InputSource, name: string, min: number, max: number, fallback: number): number {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new InputError(name, `must be an integer from ${min} to ${max} (got '${raw}')`);
  return Number(raw);
}

/** A positive finite number (decimals allowed), or undefined when unset. */
function positiveNumber(get: InputSource, name: string, max: number): number | undefined {
  const raw = optionalString(get, name);
  if (raw === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0 || Number(raw) > max) throw new InputError(name, `must be a number above 0 and at most ${max} (got '${raw}')`);
  return Number(raw);
}

function loadSettings(get: InputSource): LoadSettings {
  const rateRaw = optionalString(get, 'request-rate') ?? 'inf';
  const requestRate = rateRaw === 'inf' ? 'inf' : positiveNumber(get, 'request-rate', 1_000_000);
  const concurrencyRaw = list(get, 'concurrency');
  const concurrency = (concurrencyRaw.length ? concurrencyRaw : ['4']).map((c) => {
    if (!/^\d+$/.test(c) || Number(c) < 1 || Number(c) > 10_000) throw new InputError('concurrency', `must be integers from 1 to 10000, separated by commas or lines (got '${c}')`);
    return Number(c);
  });
  if (new Set(concurrency).size !== concurrency.length) throw new InputError('concurrency', `lists a value twice (${concurrency.join(', ')})`);
  if (concurrency.length > 16) throw new InputError('concurrency', `is a sweep of at most 16 values (got ${concurrency.length})`);
  return {
    // vllm bench serve's random dataset defaults (RandomDataset.DEFAULT_INPUT_LEN / DEFAULT_OUTPUT_LEN, seed 0).
    inputLen: integerIn(get, 'input-len', 1, 131_072, 1024),
    outputLen: integerIn(get, 'output-len', 1, 131_072, 128),
    seed: integerIn(get, 'seed', 0, 4_294_967_295, 0),
    requestRate: requestRate ?? 'inf',
    concurrency,
  };
}

function gateSettings(get: InputSource, workspace: string, requests: number): GateSettings {
  const baselineRaw = optionalString(get, 'baseline');
  const identity = optionalString(get, 'baseline-certificate-identity');
  const issuer = optionalString(get, 'baseline-certificate-oidc-issuer');
  if ((identity === undefined) !== (issuer === undefined)) throw new InputError(identity ? 'baseline-certificate-oidc-issuer' : 'baseline-certificate-identity', 'keyless verification needs both baseline-certificate-identity and baseline-certificate-oidc-issuer');
  const baselineKey = optionalString(get, 'baseline-key');
  if (baselineKey !== undefined && !/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----\s*$/.test(baselineKey)) throw new InputError('baseline-key', "must hold a PEM public key's contents (cosign.pub from cosign generate-key-pair)");
  const gate: GateSettings = {
    minTokensPerSecond: positiveNumber(get, 'min-tokens-per-second', 1e9),
    maxTtftMs: positiveNumber(get, 'max-ttft-ms', 1e9),
    maxP99LatencyMs: positiveNumber(get, 'max-p99-latency-ms', 1e9),
    maxRegressionPercent: positiveNumber(get, 'max-regression-percent', 100) ?? 10,
    baselineKey,
    baselineIdentity: identity && issuer ? { identity, issuer } : undefined,
    baselineTransparencyLog: boolean(get, 'baseline-transparency-log', true),
  };
  if (baselineRaw !== undefined) {
    if (looksLikeReportFile(baselineRaw)) gate.baseline = { kind: 'file', path: isAbsolute(baselineRaw) ? baselineRaw : resolve(workspace, baselineRaw) };
    else if (/^[a-z0-9][a-z0-9._:/-]*(@sha256:[0-9a-f]{64})?$/.test(baselineRaw) && !/\s/.test(baselineRaw)) gate.baseline = { kind: 'image', ref: baselineRaw };
    else throw new InputError('baseline', `must be a smoke-test report file (*.json) or an image reference whose smoke-test attestation is read (got '${baselineRaw}')`);
    if (gate.baseline.kind === 'image' && !gate.baselineKey && !gate.baselineIdentity) {
      throw new InputError('baseline', 'an image baseline is read from its attestation, verified: set baseline-key (a cosign public key) or baseline-certificate-identity and baseline-certificate-oidc-issuer');
    }
  } else if (baselineKey !== undefined || identity !== undefined) {
    throw new InputError(baselineKey !== undefined ? 'baseline-key' : 'baseline-certificate-identity', 'is only used with an image baseline');
  }
  const limited = gate.minTokensPerSecond ?? gate.maxTtftMs ?? gate.maxP99LatencyMs ?? gate.baseline;
  if (limited !== undefined && requests === 0) throw new InputError('requests', 'must be above 0 when min-tokens-per-second, max-ttft-ms, max-p99-latency-ms or baseline is set: they judge the throughput run');
  return gate;
}

/** A report file rather than an image reference: a path, or a name ending in .json. */
function looksLikeReportFile(value: string): boolean {
  return value.startsWith('/') || value.startsWith('./') || value.startsWith('../') || value.endsWith('.json');
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
  const requests = integerIn(get, 'requests', 0, 100_000, 16);
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
    requests,
    load: loadSettings(get),
    maxFailedRequests: integerIn(get, 'max-failed-requests', 0, 100_000, 0),
    gate: gateSettings(get, workspace, requests),
    probe: boolean(get, 'probe', gpu === 'amd'),
    allowForkPullRequests: boolean(get, 'allow-fork-pull-requests', false),
  };
}

/** An archive path rather than an image reference: absolute, ./relative, or ending like an archive. */
function looksLikePath(value: string): boolean {
  return value.startsWith('/') || value.startsWith('./') || value.startsWith('../') || /\.(tar|tar\.gz|tgz|tar\.zst|oci)$/.test(value);
}
