// Reads `docker buildx build --progress rawjson` output: a stream of concatenated JSON objects
// ({vertexes, statuses, logs, warnings}), as BuildKit's SolveStatus. It tracks each vertex
// (step), counts cached Dockerfile steps, keeps each step's last log lines for error reports,
// and renders a plain, readable log for the job output.

export interface Step {
  digest: string;
  name: string;
  started?: string;
  completed?: string;
  cached: boolean;
  error?: string;
  logTail: string[];
  /** Log lines that carry an error (error:, fatal, Traceback, …) with the lines around them; bounded. */
  errorLines: string[];
  done?: boolean;
}

interface RawVertex {
  digest: string;
  name?: string;
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
}

interface RawLog {
  vertex: string;
  stream?: number;
  data?: string;
}

interface RawStatus {
  vertexes?: RawVertex[];
  logs?: RawLog[];
  warnings?: Array<{ vertex?: string; short?: string }>;
}

const LOG_TAIL_LINES = 30;
// A step's error excerpt: each matching line with 2 lines before and 2 after, at most 40 lines.
const ERROR_CONTEXT_BEFORE = 2;
const ERROR_CONTEXT_AFTER = 2;
const ERROR_LINES = 40;
const ERROR_LINE = /\b(error|fatal)\b\s*[:!]|\bfatal\b|^Traceback \(most recent call last\)|^\s*\w*(Error|Exception): |^FAILED: |^E: /i;
// BuildKit's cache import and export steps: their errors are not the build's. The exporters name
// their vertex themselves: "exporting cache to registry" (cache/remotecache/registry/registry.go),
// "exporting cache to client directory" (local), but "exporting to GitHub Actions Cache"
// (cache/remotecache/gha/gha.go), which reads like an image export.
const CACHE_IMPORT = /^importing cache manifest/;
const CACHE_EXPORT = /^(exporting cache|exporting to GitHub Actions Cache)/;
// Dockerfile instructions are named "[2/5] RUN …" or "[stage 2/5] RUN …"; the rest is plumbing.
const INSTRUCTION = /^\[(?:[^\]\s]+ )?\d+\/\d+\]/;

export function isBuildStep(step: Pick<Step, 'name'>): boolean {
  return INSTRUCTION.test(step.name);
}

export function isCacheStep(step: Pick<Step, 'name'>): boolean {
  return CACHE_IMPORT.test(step.name) || CACHE_EXPORT.test(step.name);
}

/** Where a build's time went, from BuildKit's own step times (seconds of wall clock). */
export interface BuildPhases {
  /** Importing cache manifests (cache-from). */
  cacheImport: number;
  /** Dockerfile steps, cached or run. */
  steps: number;
  /** Exporting the image: layers, rewrite-timestamp, the archive, the push. */
  imageExport: number;
  /** Exporting the cache (cache-to). */
  cacheExport: number;
}

/** Seconds during which at least one of the steps ran: steps run in parallel, so their sum would count twice. */
export function coveredSeconds(steps: Array<Pick<Step, 'started' | 'completed'>>): number {
  const spans = steps
    .filter((s) => s.started && s.completed)
    .map((s) => [Date.parse(s.started!), Date.parse(s.completed!)] as const)
    .filter(([a, b]) => Number.isFinite(a) && b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [start, stop] of spans) {
    if (stop <= end) continue;
    total += stop - Math.max(start, end);
    end = stop;
  }
  return total / 1000;
}

/** Collects a step's error lines with their context, in bounded memory however long the log. */
class ErrorExcerpt {
  private readonly before: string[] = [];
  private after = 0;
  private lastKept = -1;
  private index = 0;
  constructor(private readonly out: string[]) {}

  add(line: string): void {
    const i = this.index++;
    if (this.out.length >= ERROR_LINES) return;
    if (ERROR_LINE.test(line)) {
      if (this.lastKept >= 0 && i - this.before.length > this.lastKept + 1) this.out.push('…');
      this.out.push(...this.before.splice(0));
      this.out.push(line);
      this.after = ERROR_CONTEXT_AFTER;
      this.lastKept = i;
    } else if (this.after > 0) {
      this.out.push(line);
      this.after--;
      this.lastKept = i;
    } else {
      this.before.push(line);
      if (this.before.length > ERROR_CONTEXT_BEFORE) this.before.shift();
    }
    if (this.out.length > ERROR_LINES) this.out.length = ERROR_LINES;
  }
}

/** Splits a character stream into top-level JSON object texts, across chunk boundaries. */
export class JsonObjectSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private outsideText = '';

  push(chunk: string): string[] {
    const objects: string[] = [];
    let start = this.depth > 0 ? 0 : -1;
    const base = this.buffer.length;
    this.buffer += chunk;
    for (let i = base; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (this.depth === 0) {
        // Text between objects (buildx's closing "ERROR: …" lines) may hold quotes and brackets.
        if (c === 0x7b) {
          this.depth = 1;
          start = i;
        } else this.outsideText += this.buffer[i];
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b) this.depth++;
      else if (c === 0x7d && --this.depth === 0) {
        objects.push(this.buffer.slice(start, i + 1));
        start = -1;
      }
    }
    this.buffer = this.depth > 0 && start >= 0 ? this.buffer.slice(start) : '';
    return objects;
  }

  /** Takes the text seen outside any object since the last call. */
  takeOutsideText(): string {
    const text = this.outsideText;
    this.outsideText = '';
    return text;
  }
}

export class BuildProgress {
  private readonly splitter = new JsonObjectSplitter();
  private readonly byDigest = new Map<string, Step>();
  private readonly partialLine = new Map<string, string>();
  private readonly numbers = new Map<string, number>();
  private readonly excerpts = new Map<string, ErrorExcerpt>();
  private readonly render: (line: string) => void;
  private trailing = '';
  private renderedTrailing = 0;
  readonly warnings: string[] = [];

  constructor(render: (line: string) => void = () => {}) {
    this.render = render;
  }

  /** Feeds raw stderr text; non-JSON text between objects is kept as trailing output. */
  feed(chunk: string): void {
    for (const text of this.splitter.push(chunk)) {
      let status: RawStatus;
      try {
        status = JSON.parse(text) as RawStatus;
      } catch {
        continue;
      }
      this.apply(status);
    }
    const rest = this.splitter.takeOutsideText();
    if (rest === '') return;
    this.trailing += rest;
    // Render only whole lines; the last piece may continue in the next chunk.
    const lines = this.trailing.slice(this.renderedTrailing).split('\n');
    lines.pop();
    for (const line of lines) {
      this.renderedTrailing += line.length + 1;
      if (line.trim() !== '') this.render(line);
    }
  }

  /** Renders a last unterminated line of trailing text, once the stream has ended. */
  end(): void {
    const last = this.trailing.slice(this.renderedTrailing);
    this.renderedTrailing = this.trailing.length;
    if (last.trim() !== '') this.render(last);
  }

  /** Every vertex, in the order first seen. */
  get steps(): Step[] {
    return [...this.byDigest.values()];
  }

  /** Dockerfile instructions only. */
  get buildSteps(): Step[] {
    return this.steps.filter(isBuildStep);
  }

  /**
   * Dockerfile steps by name ("[2/4] RUN …"): BuildKit may report one instruction as several
   * vertexes (e.g. when a cache import re-resolves it). A step is cached when one of its vertexes
   * was and none ran.
   */
  get cacheHit(): { cached: number; total: number } {
    const byName = new Map<string, Step[]>();
    for (const step of this.buildSteps) byName.set(step.name, [...(byName.get(step.name) ?? []), step]);
    const cached = [...byName.values()].filter((vs) => vs.some((v) => v.cached) && !vs.some((v) => v.done && !v.cached)).length;
    return { cached, total: byName.size };
  }

  /**
   * Each instant is counted once, for the first kind in this order that ran then (a cached step's
   * lazy layer fetch may overlap the export), so the phases add up to at most buildx's wall time.
   */
  get phases(): BuildPhases {
    const kinds: Array<[keyof BuildPhases, (name: string) => boolean]> = [
      ['cacheImport', (name) => CACHE_IMPORT.test(name)],
      ['steps', (name) => INSTRUCTION.test(name)],
      ['imageExport', (name) => name.startsWith('exporting to ') && !CACHE_EXPORT.test(name)],
      ['cacheExport', (name) => CACHE_EXPORT.test(name)],
    ];
    const phases: BuildPhases = { cacheImport: 0, steps: 0, imageExport: 0, cacheExport: 0 };
    const soFar: Step[] = [];
    let before = 0;
    for (const [kind, named] of kinds) {
      soFar.push(...this.steps.filter((s) => named(s.name)));
      const covered = coveredSeconds(soFar);
      phases[kind] = covered - before;
      before = covered;
    }
    return phases;
  }

  /** The step that failed the build: a Dockerfile step first; a cache import's error is never the cause. */
  get failedStep(): Step | undefined {
    const failed = this.steps.filter((s) => s.error !== undefined && !isCacheStep(s));
    return failed.find(isBuildStep) ?? failed.at(-1);
  }

  /** Cache import and export steps that reported an error (export errors are ignored by BuildKit with ignore-error). */
  get cacheErrors(): Step[] {
    return this.steps.filter((s) => s.error !== undefined && isCacheStep(s));
  }

  /** Plain text buildx printed outside the JSON stream (its final ERROR line, Dockerfile excerpt). */
  get trailingText(): string {
    return this.trailing;
  }

  private flushPartialLine(step: Step): void {
    const partial = this.partialLine.get(step.digest);
    if (partial) this.logLine(step, partial);
    this.partialLine.delete(step.digest);
  }

  private logLine(step: Step, line: string): void {
    step.logTail.push(line);
    if (step.logTail.length > LOG_TAIL_LINES) step.logTail.shift();
    let excerpt = this.excerpts.get(step.digest);
    if (!excerpt) {
      excerpt = new ErrorExcerpt(step.errorLines);
      this.excerpts.set(step.digest, excerpt);
    }
    excerpt.add(line);
    this.render(`#${this.stepNumber(step.digest)} ${line}`);
  }

  private stepNumber(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(digest, n);
    }
    return n;
  }

  private apply(status: RawStatus): void {
    for (const v of status.vertexes ?? []) {
      let step = this.byDigest.get(v.digest);
      if (!step) {
        step = { digest: v.digest, name: v.name ?? v.digest, cached: false, logTail: [], errorLines: [] };
        this.byDigest.set(v.digest, step);
      }
      const n = this.stepNumber(v.digest);
      if (v.name) step.name = v.name;
      if (v.started && !step.started) {
        step.started = v.started;
        this.render(`#${n} ${step.name}`);
      }
      if (v.cached && !step.cached) {
        step.cached = true;
        this.render(`#${n} CACHED`);
      }
      if (v.error && step.error === undefined) {
        step.error = v.error;
        this.render(`#${n} ERROR: ${v.error}`);
      }
      if (v.completed && v.completed !== step.completed) {
        step.completed = v.completed;
        this.flushPartialLine(step);
        if (!v.error && !step.cached && !step.done) this.render(`#${n} DONE ${formatSeconds(step.started, step.completed)}`);
        step.done = true;
      }
    }
    for (const log of status.logs ?? []) {
      const step = this.byDigest.get(log.vertex);
      if (!step || !log.data) continue;
      const text = (this.partialLine.get(log.vertex) ?? '') + Buffer.from(log.data, 'base64').toString('utf8');
      const parts = text.split('\n');
      this.partialLine.set(log.vertex, parts.pop() ?? '');
      for (const line of parts) this.logLine(step, line);
    }
    for (const w of status.warnings ?? []) {
      if (w.short) this.warnings.push(Buffer.from(w.short, 'base64').toString('utf8'));
    }
  }
}

function formatSeconds(started?: string, completed?: string): string {
  if (!started || !completed) return '';
  const ms = Date.parse(completed) - Date.parse(started);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)}s` : '';
}
