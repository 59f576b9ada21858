// vLLM's Prometheus /metrics: the vllm:* samples, and the few the job summary shows.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (comments skipped; NaN/Inf kept as numbers). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, '$1');
    const raw = match[4]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

export function vllmSamples(text: string): Sample[] {
  return parsePrometheus(text).filter((s) => s.name.startsWith('vllm:'));
}

/** Sum of a series over its labels; undefined when absent. */
export function total(samples: readonly Sample[], name: string): number | undefined {
  const hits = samples.filter((s) => s.name === name);
  return hits.length ? hits.reduce((n, s) => n + s.value, 0) : undefined;
}

/** The figures the summary reports: token counters, request counts, cache use, server-side TTFT. */
export function keyMetrics(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (key: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) out[key] = value;
  };
  put('prompt_tokens_total', total(samples, 'vllm:prompt_tokens_total'));
  put('generation_tokens_total', total(samples, 'vllm:generation_tokens_total'));
  put('request_success_total', total(samples, 'vllm:request_success_total'));
  put('kv_cache_usage_perc', total(samples, 'vllm:kv_cache_usage_perc') ?? total(samples, 'vllm:gpu_cache_usage_perc'));
  const ttftSum = total(samples, 'vllm:time_to_first_token_seconds_sum');
  const ttftCount = total(samples, 'vllm:time_to_first_token_seconds_count');
  if (ttftSum !== undefined && ttftCount) put('server_mean_ttft_ms', (ttftSum / ttftCount) * 1000);
  return out;
}
