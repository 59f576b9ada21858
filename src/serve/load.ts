// The throughput run: `requests` streamed requests, `concurrency` at a time, summarised with the
// definitions of `vllm bench serve` (vllm/benchmarks/serve.py calculate_metrics):
// TTFT per request; TPOT = (latency − TTFT) / (output tokens − 1) for requests with more than one
// token; ITL = every gap between chunks; E2EL = latency; output throughput = Σ output tokens / wall
// time; request throughput = completed / wall time; total input tokens count what the server
// reports (usage.prompt_tokens), else the prompt's planned length (vLLM's prompt_len).
// Percentiles interpolate linearly (numpy's default).
import type { SampleRequest } from './dataset.js';
import type { StreamTiming } from './openai.js';

export interface Distribution {
  mean: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadStats {
  requests: number;
  concurrency: number;
  completed: number;
  failed: number;
  durationS: number;
  requestThroughput: number;
  outputThroughput: number;
  totalTokenThroughput: number;
  totalInputTokens: number;
  totalOutputTokens: number;
  ttftMs: Distribution;
  tpotMs: Distribution;
  itlMs: Distribution;
  e2elMs: Distribution;
  errors: string[];
}

/** numpy.percentile(values, q) with linear interpolation; 0 for no values (as vllm bench prints). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function distribution(values: readonly number[]): Distribution {
  return {
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0,
    median: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : 0,
  };
}

export function summarize(timings: readonly StreamTiming[], durationMs: number, concurrency: number): LoadStats {
  const done = timings.filter((t) => t.ok);
  const durationS = durationMs / 1000;
  const totalOutput = done.reduce((n, t) => n + t.outputTokens, 0);
  const totalInput = done.reduce((n, t) => n + t.promptTokens, 0);
  return {
    requests: timings.length,
    concurrency,
    completed: done.length,
    failed: timings.length - done.length,
    durationS,
    requestThroughput: done.length / durationS,
    outputThroughput: totalOutput / durationS,
    totalTokenThroughput: (totalInput + totalOutput) / durationS,
    totalInputTokens: totalInput,
    totalOutputTokens: totalOutput,
    ttftMs: distribution(done.map((t) => t.ttftMs)),
    tpotMs: distribution(done.filter((t) => t.outputTokens > 1).map((t) => (t.latencyMs - t.ttftMs) / (t.outputTokens - 1))),
    itlMs: distribution(done.flatMap((t) => t.itlMs)),
    e2elMs: distribution(done.map((t) => t.latencyMs)),
    errors: [...new Set(timings.filter((t) => !t.ok).map((t) => t.error ?? 'failed'))],
  };
}

/** One run of the sweep: these requests, sent at these times (s from the start), `concurrency` at most in flight. */
export interface LoadPlan {
  requests: readonly SampleRequest[];
  arrivals: readonly number[];
  concurrency: number;
}

/**
 * Sends each request at its arrival time, or once one of `concurrency` slots is free if later: the
 * semaphore of `vllm bench serve --max-concurrency` over get_request's schedule
 * (vllm/benchmarks/serve.py benchmark, limited_request_func). One that returns !ok (a non-200, an
 * error event, a timeout) is counted and the run goes on, as vllm bench serve counts failed
 * requests (vllm/benchmarks/lib/endpoint_request_func.py); the caller decides how many it
 * tolerates. A send that throws (the engine died) ends the run: the rest would only repeat it.
 */
export async function runLoad(plan: LoadPlan, send: (request: SampleRequest, i: number) => Promise<StreamTiming>): Promise<LoadStats> {
  const { requests, arrivals, concurrency } = plan;
  const timings: StreamTiming[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      const wait = started + (arrivals[i] ?? 0) * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const timing = await send(requests[i]!, i);
      timings.push({ ...timing, promptTokens: timing.promptTokens || requests[i]!.promptLen });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  return summarize(timings, performance.now() - started, concurrency);
}
