// Waits for vLLM's /health: refused or hanging = still booting (vLLM binds its port long before the
// engine is ready), 200 = ready, 503 = the engine died. The wait also ends the moment the server
// exits or a watcher reports a known failure, so a dead server is never waited out.

export type ReadyOutcome =
  | { kind: 'ready'; ms: number; polls: number }
  | { kind: 'engine-dead'; ms: number }
  | { kind: 'exited'; ms: number; detail: string }
  | { kind: 'failure'; ms: number; reason: string }
  | { kind: 'timeout'; ms: number };

export interface WaitOptions {
  url: string;
  timeoutMs: number;
  /** Per /health request; a hanging connection is abandoned after this. */
  requestTimeoutMs?: number;
  /** First pause between polls, doubling up to maxIntervalMs. */
  minIntervalMs?: number;
  maxIntervalMs?: number;
  exited: Promise<{ detail: string }>;
  /** Settles when the log shows a known failure. */
  failure?: Promise<string>;
}

export async function waitForReady(opts: WaitOptions): Promise<ReadyOutcome> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const stop = new AbortController();
  const ended: Promise<ReadyOutcome> = Promise.race([
    opts.exited.then((e): ReadyOutcome => ({ kind: 'exited', ms: elapsed(), detail: e.detail })),
    (opts.failure ?? new Promise<never>(() => {})).then((reason): ReadyOutcome => ({ kind: 'failure', ms: elapsed(), reason })),
    new Promise<ReadyOutcome>((resolve) => setTimeout(() => resolve({ kind: 'timeout', ms: elapsed() }), opts.timeoutMs).unref()),
  ]);
  const polling = poll(opts, stop.signal, elapsed);
  const outcome = await Promise.race([ended, polling]);
  stop.abort();
  return outcome;
}

async function poll(opts: WaitOptions, stop: AbortSignal, elapsed: () => number): Promise<ReadyOutcome> {
  let interval = opts.minIntervalMs ?? 50;
  const max = opts.maxIntervalMs ?? 250;
  let polls = 0;
  while (!stop.aborted) {
    polls++;
    const status = await fetch(opts.url, { signal: AbortSignal.any([stop, AbortSignal.timeout(opts.requestTimeoutMs ?? 1000)]) }).then(
      async (r) => {
        await r.body?.cancel();
        return r.status;
      },
      () => 0,
    );
    if (status === 200) return { kind: 'ready', ms: elapsed(), polls };
    if (status === 503) return { kind: 'engine-dead', ms: elapsed() };
    await new Promise((r) => setTimeout(r, interval));
    interval = Math.min(max, interval * 2);
  }
  return new Promise<never>(() => {});
}
