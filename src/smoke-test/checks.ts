// The checks against a ready server: model list, greedy completion and chat matching `expect`, one
// streamed request for TTFT, the throughput run (one per concurrency value: vllm bench serve's
// random prompts, ignore_eos, max_tokens = output-len, Poisson arrivals), and the vllm:* metrics.
import * as core from '@actions/core';
import { keyMetrics, vllmSamples } from '../serve/metrics.js';
import { arrivalTimes, randomRequests } from '../serve/dataset.js';
import { runLoad } from '../serve/load.js';
import { EngineDiedError, OpenAIClient } from '../serve/openai.js';
import type { ServerHandle } from '../serve/server.js';
import type { SmokeTestInputs } from './inputs.js';
import type { SmokeReport } from './report.js';

export async function runChecks(inputs: SmokeTestInputs, report: SmokeReport, baseUrl: string, server: ServerHandle): Promise<void> {
  const served = inputs.servedModelName ?? inputs.model;
  const client = new OpenAIClient(baseUrl, served, undefined, inputs.apiKey);
  // A server that exits mid-test ends the checks at once, whatever request is pending.
  const died = server.exited.then((e) => {
    throw new EngineDiedError(`the server exited during the test (${e.detail})`);
  });
  died.catch(() => {});
  const guard = <T>(work: Promise<T>): Promise<T> => Promise.race([work, died]);

  report.models = await guard(client.models());
  if (!report.models.includes(served)) throw new Error(`/v1/models does not list '${served}' (it lists ${report.models.map((m) => `'${m}'`).join(', ') || 'nothing'}); set served-model-name to the name the server uses`);

  const completion = await guard(client.complete(inputs.prompt, inputs.maxTokens));
  report.completion = { text: completion.text, ms: completion.ms };
  checkAnswer('completion', completion.text, inputs.expect);
  const chat = await guard(client.chat(inputs.prompt, inputs.maxTokens));
  report.chat = { text: chat.text, ms: chat.ms };
  checkAnswer('chat completion', chat.text, inputs.expect);

  const streamed = await guard(client.stream(inputs.prompt, inputs.maxTokens));
  if (!streamed.ok) throw new Error(`the streamed completion failed: ${streamed.error}`);
  report.ttftMs = streamed.ttftMs;

  if (inputs.requests > 0) {
    const settings = inputs.load;
    // The same prompts and arrival times for every concurrency value: the rows differ in that only.
    const requests = randomRequests(inputs.requests, settings.inputLen, settings.outputLen, settings.seed);
    const arrivals = arrivalTimes(inputs.requests, settings.requestRate === 'inf' ? Infinity : settings.requestRate, settings.seed);
    report.load = { settings, rows: [] };
    for (const concurrency of settings.concurrency) {
      const load = await guard(runLoad({ requests, arrivals, concurrency }, (r) => client.stream(r.prompt, r.outputLen, true)));
      report.load.rows.push(load);
      const failures = `${load.failed} of ${load.requests} requests of the throughput run at concurrency ${concurrency} failed: ${load.errors.join('; ')}`;
      if (load.failed > inputs.maxFailedRequests) throw new Error(`${failures} (max-failed-requests: ${inputs.maxFailedRequests})`);
      if (load.failed > 0) core.warning(`${failures} (within max-failed-requests: ${inputs.maxFailedRequests})`);
    }
  }

  try {
    const samples = vllmSamples(await guard(client.metrics()));
    report.metrics = { series: samples.length, key: keyMetrics(samples) };
    if (samples.length === 0) core.warning('/metrics has no vllm:* series (metrics disabled, or not a vLLM server?)');
  } catch (error) {
    if (error instanceof EngineDiedError) throw error;
    core.warning(`/metrics could not be read: ${(error as Error).message}`);
  }
}

function checkAnswer(what: string, text: string, expect: RegExp | undefined): void {
  if (text.trim() === '') throw new Error(`the greedy ${what} is empty`);
  if (expect && !expect.test(text)) throw new Error(`the greedy ${what} does not match expect /${expect.source}/: ${JSON.stringify(text.slice(0, 300))}`);
}
