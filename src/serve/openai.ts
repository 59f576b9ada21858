// A client for vLLM's OpenAI-compatible API: the model list, greedy completions and chat, streamed
// requests timed the way `vllm bench serve` times them, and the /metrics text.
// EngineDiedError is each way vLLM shows a dead engine: 503 (/health: check_health raises
// EngineDeadError), 500 with EngineDeadError's ErrorResponse on a generation route (serving_completion.py
// / serving_chat.py raise the engine's dead_error; engine_error_handler in api_server.py answers it),
// the same error as an in-band `data: {"error": …}` event of a stream already under HTTP 200
// (completion_stream_generator), and a dropped connection (the watchdog in launcher.py ends the
// server about 5 s later).
import { Agent, request as httpRequest } from 'node:http';

const agent = new Agent({ keepAlive: true });

export class EngineDiedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineDiedError';
  }
}

/** vLLM's ErrorResponse (vllm/entrypoints/openai/protocol.py): {"error": {message, type, param, code}}. */
interface ErrorBody {
  error?: { message?: unknown; type?: unknown; code?: unknown } | string;
}

/** EngineDeadError's text (vllm/v1/engine/exceptions.py), in the message of a 500 or a stream event. */
const ENGINE_DEAD = /EngineCore encountered an issue|EngineDeadError|engine (?:core )?(?:is )?dead/i;

/** The error's message when `body` is vLLM's error JSON, else undefined. */
export function errorMessage(body: string): string | undefined {
  let parsed: ErrorBody;
  try {
    parsed = JSON.parse(body) as ErrorBody;
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || parsed.error === undefined) return undefined;
  if (typeof parsed.error === 'string') return parsed.error;
  return typeof parsed.error?.message === 'string' ? parsed.error.message : JSON.stringify(parsed.error);
}

/** An answer (status and body) that says the engine is dead: 503, or 500 carrying EngineDeadError. */
export function engineDeathIn(status: number, body: string): string | undefined {
  if (status === 503) return 'answered 503';
  if (status !== 500) return undefined;
  const message = errorMessage(body);
  return message !== undefined && ENGINE_DEAD.test(message) ? `answered 500 (${message.slice(0, 200)})` : undefined;
}

/** What a status other than 200 means to the person reading the failure. */
function statusHint(status: number): string {
  return status === 401 ? ' (the server wants an API key: set the api-key input to the key it was started with)' : '';
}

export interface Answer {
  text: string;
  promptTokens?: number;
  completionTokens?: number;
  ms: number;
}

/** One streamed request, as vllm bench serve measures it (benchmarks/backend_request_func.py). */
export interface StreamTiming {
  ok: boolean;
  /** Time to the first chunk with choices. */
  ttftMs: number;
  /** Start to the last chunk with choices. */
  latencyMs: number;
  /** Inter-token latencies: gaps between chunks after the first. */
  itlMs: number[];
  /** usage.completion_tokens when the server reports it, else the chunks with text. */
  outputTokens: number;
  promptTokens: number;
  text: string;
  error?: string;
}

export class OpenAIClient {
  constructor(
    readonly baseUrl: string,
    readonly model: string,
    readonly timeoutMs = 120_000,
    /** Sent as "Authorization: Bearer <key>" (vLLM's --api-key / VLLM_API_KEY guard /v1/*). */
    private readonly apiKey?: string,
  ) {}

  private authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  async models(): Promise<string[]> {
    const body = (await this.json('GET', '/v1/models')) as { data?: Array<{ id?: unknown }> };
    return (body.data ?? []).map((m) => String(m.id));
  }

  /** Greedy (temperature 0) completion. */
  async complete(prompt: string, maxTokens: number): Promise<Answer> {
    const started = performance.now();
    const body = (await this.json('POST', '/v1/completions', { model: this.model, prompt, max_tokens: maxTokens, temperature: 0 })) as {
      choices?: Array<{ text?: string }>;
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    return { text: body.choices?.[0]?.text ?? '', promptTokens: body.usage?.prompt_tokens, completionTokens: body.usage?.completion_tokens, ms: performance.now() - started };
  }

  /** Greedy chat answer to one user message. */
  async chat(prompt: string, maxTokens: number): Promise<Answer> {
    const started = performance.now();
    const body = (await this.json('POST', '/v1/chat/completions', { model: this.model, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, temperature: 0 })) as {
      choices?: Array<{ message?: { content?: string } }>;
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    return { text: body.choices?.[0]?.message?.content ?? '', promptTokens: body.usage?.prompt_tokens, completionTokens: body.usage?.completion_tokens, ms: performance.now() - started };
  }

  /**
   * A streamed /v1/completions; ignoreEos makes every request produce maxTokens (as vllm bench serve
   * --ignore-eos). Over node:http rather than fetch: web streams cost more per chunk than the
   * server's own time on a fast GPU, and the load generator must never be what limits the figures.
   */
  stream(prompt: string, maxTokens: number, ignoreEos = false): Promise<StreamTiming> {
    const body = JSON.stringify({
      model: this.model,
      prompt,
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      ...(ignoreEos ? { ignore_eos: true } : {}),
    });
    const url = new URL('/v1/completions', this.baseUrl);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const timing: StreamTiming = { ok: false, ttftMs: 0, latencyMs: 0, itlMs: [], outputTokens: 0, promptTokens: 0, text: '' };
      let last = started;
      let chunks = 0;
      let usageTokens: number | undefined;
      let buffer = '';
      let failed = false;
      const fail = (error: Error): void => {
        if (failed) return;
        failed = true;
        request.destroy();
        reject(error);
      };
      const finish = (result: StreamTiming): void => {
        if (failed) return;
        failed = true;
        request.destroy();
        resolve(result);
      };
      const request = httpRequest(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...this.authHeaders() }, timeout: this.timeoutMs },
        (response) => {
          if (response.statusCode !== 200) {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (d: string) => (text += d));
            response.on('end', () => {
              const status = response.statusCode ?? 0;
              const death = engineDeathIn(status, text);
              if (death) {
                fail(new EngineDiedError(`POST /v1/completions ${death}: the engine died`));
                return;
              }
              // Counted, not thrown: vllm bench serve records a non-200 as a failed request and goes
              // on (vllm/benchmarks/lib/endpoint_request_func.py).
              finish({ ...timing, ok: false, error: `POST /v1/completions answered ${status}${statusHint(status)}: ${(errorMessage(text) ?? text).slice(0, 300)}` });
            });
            return;
          }
          response.setEncoding('utf8');
          response.on('data', (piece: string) => {
            buffer += piece;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (!event.startsWith('data:')) continue;
              const data = event.slice(5).trim();
              if (data === '[DONE]') continue;
              let chunk: { choices?: Array<{ text?: string }>; usage?: { completion_tokens?: number; prompt_tokens?: number }; error?: unknown };
              try {
                chunk = JSON.parse(data) as typeof chunk;
              } catch (error) {
                finish({ ...timing, ok: false, error: `a streamed chunk is not JSON: ${(error as Error).message}` });
                return;
              }
              if (chunk.error !== undefined) {
                // An error after the 200: the output so far is truncated, never a success.
                const message = errorMessage(data) ?? data;
                if (ENGINE_DEAD.test(message)) fail(new EngineDiedError(`the stream carried an error event after ${chunks} chunk${chunks === 1 ? '' : 's'} ("${message.slice(0, 200)}"): the engine died`));
                else finish({ ...timing, ok: false, error: `the stream carried an error event after ${chunks} chunk${chunks === 1 ? '' : 's'}: ${message.slice(0, 300)}` });
                return;
              }
              const now = performance.now();
              if (chunk.choices && chunk.choices.length > 0) {
                if (chunks === 0) timing.ttftMs = now - started;
                else timing.itlMs.push(now - last);
                last = now;
                chunks++;
                timing.text += chunk.choices[0]!.text ?? '';
              } else if (chunk.usage) {
                usageTokens = chunk.usage.completion_tokens;
                timing.promptTokens = chunk.usage.prompt_tokens ?? 0;
              }
            }
          });
          response.on('aborted', () => fail(new EngineDiedError('the stream was cut off mid-response: the server or its engine died')));
          response.on('error', (error) => fail(dropped(error)));
          response.on('end', () => {
            if (failed) return;
            timing.latencyMs = last - started;
            timing.outputTokens = usageTokens ?? chunks;
            timing.ok = chunks > 0;
            if (!timing.ok) timing.error = 'the stream carried no tokens';
            resolve(timing);
          });
        },
      );
      request.on('timeout', () => finish({ ...timing, ok: false, error: `the streamed request timed out after ${this.timeoutMs} ms` }));
      request.on('error', (error: NodeJS.ErrnoException) => fail(new EngineDiedError(`the connection dropped mid-request (${error.code ?? error.message}): the server or its engine died`)));
      request.end(body);
    });
  }

  async metrics(): Promise<string> {
    const response = await this.send('GET', '/metrics');
    return response.text();
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.send(method, path, body);
    const text = await response.text().catch((error: unknown) => {
      throw dropped(error);
    });
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...this.authHeaders() },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw dropped(error);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      const death = engineDeathIn(response.status, text);
      if (death) throw new EngineDiedError(`${method} ${path} ${death}: the engine died`);
      throw new Error(`${method} ${path} answered ${response.status}${statusHint(response.status)}: ${(errorMessage(text) ?? text).slice(0, 300)}`);
    }
    return response;
  }
}

function dropped(error: unknown): Error {
  if (error instanceof EngineDiedError) return error;
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return new Error(`the request timed out: ${e.message}`);
  const why = e.cause?.code ?? e.cause?.message ?? e.message;
  return new EngineDiedError(`the connection dropped mid-request (${why}): the server or its engine died`);
}
