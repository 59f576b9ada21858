// The JSON Schemas of the suite's predicates. docs/predicates/*.schema.json are these objects
// written out (test/unit/attest.test.ts keeps them equal); the builders check every predicate
// against them before it is signed.
import type { Schema } from './json-schema.js';

const text = (maxLength = 500): Schema => ({ type: 'string', maxLength });
const count: Schema = { type: 'integer', minimum: 0 };
const figure: Schema = { type: 'number', minimum: 0 };
const digest: Schema = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' };

export const REPRODUCIBILITY_SCHEMA: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://github.com/vllm-rocm-action/vllm-rocm-action/predicates/reproducibility/v1',
  title: 'vllm-rocm-action reproducibility predicate, v1',
  description: 'Whether two independent builds of an image gave the same digest, how that was found, and why not.',
  type: 'object',
  additionalProperties: false,
  required: ['verdict', 'reproducible', 'contentReproducible', 'method', 'digests', 'counts', 'causes', 'causesOmitted', 'report'],
  properties: {
    verdict: { enum: ['reproducible', 'not-reproducible'] },
    reproducible: { type: 'boolean', description: 'Both builds have the same top digest.' },
    contentReproducible: { type: 'boolean', description: 'Every platform image is equal once attestations (and layer compression, if ignored) are set aside.' },
    method: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'a', 'b'],
      properties: {
        kind: { enum: ['two-builds', 'two-runners'], description: 'two-builds: two builds compared on one runner; two-runners: two jobs\' image descriptions compared.' },
        builder: { enum: ['docker', 'nix'] },
        a: { $ref: '#/$defs/side' },
        b: { $ref: '#/$defs/side' },
      },
    },
    digests: { type: 'object', additionalProperties: false, required: ['a', 'b'], properties: { a: digest, b: digest } },
    counts: {
      type: 'object',
      additionalProperties: false,
      required: ['differences', 'filesCompared', 'filesDiffering'],
      properties: { differences: count, filesCompared: count, filesDiffering: count },
    },
    causes: {
      type: 'array',
      maxItems: 20,
      description: 'One entry per cause, in the report\'s order: rarest first, consequences last.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'count', 'cause', 'fix', 'fixLabel', 'examples'],
        properties: { kind: text(64), count, cause: text(), fix: text(), fixLabel: text(), examples: { type: 'array', maxItems: 3, items: text() } },
      },
    },
    causesOmitted: count,
    report: {
      type: 'object',
      additionalProperties: false,
      required: ['schema', 'sha256'],
      properties: { schema: { const: 'vllm-rocm-action/reproducibility-report/v1' }, sha256: digest },
    },
  },
  $defs: {
    side: { type: 'object', additionalProperties: false, required: ['input', 'kind'], properties: { input: text(), kind: text(100) } },
  },
};

const percentiles: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['mean', 'median', 'p90', 'p99', 'max'],
  properties: { mean: figure, median: figure, p90: figure, p99: figure, max: figure },
};

export const SMOKE_TEST_SCHEMA: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://github.com/vllm-rocm-action/vllm-rocm-action/predicates/smoke-test/v1',
  title: 'vllm-rocm-action smoke-test predicate, v1',
  description: 'The image served a model on a GPU: the GPU seen, how the server was started, its answers and its figures under load (vLLM bench serve\'s metric definitions).',
  type: 'object',
  additionalProperties: false,
  required: ['verdict', 'gpu', 'model', 'checks'],
  properties: {
    verdict: { enum: ['passed', 'failed'] },
    gpu: {
      type: 'object',
      additionalProperties: false,
      required: ['gpus'],
      properties: {
        gpus: {
          type: 'array',
          maxItems: 64,
          items: { type: 'object', additionalProperties: false, required: ['gfx', 'memoryBytes'], properties: { gfx: text(64), name: text(), memoryBytes: count } },
        },
        rocmVersion: text(100),
        driverVersion: text(100),
      },
    },
    image: text(),
    command: { type: 'array', maxItems: 64, items: text() },
    serverArgs: text(),
    entrypoint: { type: 'array', maxItems: 64, items: text() },
    args: { type: 'array', maxItems: 256, items: text() },
    model: text(),
    startupSeconds: figure,
    ttftMs: figure,
    gfx: text(64),
    load: {
      type: 'object',
      additionalProperties: false,
      required: ['settings', 'rows'],
      properties: {
        settings: {
          type: 'object',
          additionalProperties: false,
          required: ['inputLen', 'outputLen', 'seed', 'requestRate', 'concurrency'],
          properties: {
            inputLen: count,
            outputLen: count,
            seed: count,
            requestRate: { anyOf: [figure, { const: 'inf' }] },
            concurrency: { type: 'array', maxItems: 64, items: count },
          },
        },
        rows: {
          type: 'array',
          maxItems: 64,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['requests', 'completed', 'failed', 'concurrency', 'durationS', 'outputTokensPerSecond', 'requestsPerSecond', 'totalInputTokens', 'totalOutputTokens', 'ttftMs', 'tpotMs', 'itlMs', 'e2elMs'],
            properties: {
              requests: count,
              completed: count,
              failed: count,
              concurrency: count,
              durationS: figure,
              outputTokensPerSecond: figure,
              requestsPerSecond: figure,
              totalInputTokens: count,
              totalOutputTokens: count,
              ttftMs: percentiles,
              tpotMs: percentiles,
              itlMs: percentiles,
              e2elMs: percentiles,
            },
          },
        },
      },
    },
    checks: {
      type: 'array',
      maxItems: 16,
      items: { type: 'object', additionalProperties: false, required: ['name', 'verdict'], properties: { name: text(64), verdict: { enum: ['pass', 'fail', 'not-run'] } } },
    },
    probe: { type: 'object', additionalProperties: false, required: ['ok', 'verdict', 'detail'], properties: { ok: { type: 'boolean' }, verdict: text(100), detail: text() } },
    failure: { type: 'object', additionalProperties: false, required: ['phase', 'title'], properties: { phase: text(32), title: text() } },
  },
};
