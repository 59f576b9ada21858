// What a job's log and summary look like in a terminal: workflow commands as plain lines, masked
// values as ***, and the Markdown/HTML job summary as aligned plain text.
import { CommandReader, Masker, type WorkflowCommand } from '../runner/workflow-commands.js';

export interface LogOptions {
  debug: boolean;
}

/** Renders a step's stdout line by line; undefined for a line that shows nothing (a mask, a hidden debug line). */
export class LogRenderer {
  readonly masker = new Masker();
  /** The ::error:: messages so far (masked), for the closing line. */
  readonly errors: string[] = [];
  /** This step's commands, in order (save-state and set-output count as the runner counts them). */
  commands: WorkflowCommand[] = [];
  // One per step, for stdout and stderr alike, as the runner's ActionCommandManager.
  private reader = new CommandReader();
  constructor(private readonly options: LogOptions) {}

  /** A new step: commands paused by stop-commands in the last one do not stay paused. */
  startStep(): void {
    this.reader = new CommandReader();
    this.commands = [];
  }

  stdoutLine(line: string): string | undefined {
    const command = this.reader.read(line);
    if (!command) return this.masker.mask(line);
    this.commands.push(command);
    const { properties, message } = command;
    const name = command.name.toLowerCase();
    switch (name) {
      case 'stop-commands':
        // The runner masks a token longer than 6 characters (ActionCommandManager.cs).
        if (message.length > 6) this.masker.add(message);
        return this.masker.mask(line);
      case 'add-mask':
        this.masker.add(message);
        return undefined;
      case 'group':
        return this.masker.mask(`==> ${message}`);
      case 'endgroup':
      case 'save-state':
      case 'set-output':
        return undefined;
      case 'debug':
        return this.options.debug ? this.masker.mask(prefixed('debug', message)) : undefined;
      case 'error':
      case 'notice':
      case 'warning':
        if (name === 'error') this.errors.push(this.masker.mask(message));
        return this.masker.mask(prefixed(name, properties.title && !message.startsWith(properties.title) ? `${properties.title}: ${message}` : message));
      default:
        return this.masker.mask(line);
    }
  }

  /** stderr, masked; a stack trace's frames only with --debug. */
  stderrLine(line: string): string | undefined {
    // The runner reads stderr for commands too (NodeScriptActionHandler.cs).
    if (this.reader.stopped || /::|##\[/.test(line)) return this.stdoutLine(line);
    if (!this.options.debug && /^\s+at \S/.test(line)) return undefined;
    return this.masker.mask(line);
  }
}

function prefixed(label: string, message: string): string {
  return `${label}: ${message.replace(/\r?\n/g, '\n  ')}`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** Inline Markdown and HTML to plain text: tags dropped, `<br>` as `sep`, entities decoded. */
function inline(text: string, sep: string): string {
  return text
    .replace(/<br\s*\/?>/gi, sep)
    .replace(/<[^>]+>/g, '')
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 <$2>')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e]!);
}

function splitRow(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return body.split(/(?<!\\)\|/).map((cell) => inline(cell.trim().replace(/\\\|/g, '|'), ', '));
}

/** Terminal columns: an emoji (✅, ❌, ⚠️) takes two, a variation selector none. */
const width = (s: string): number => [...s].reduce((n, c) => n + (c === '\uFE0F' ? 0 : /\p{Extended_Pictographic}/u.test(c) ? 2 : 1), 0);

/** The cells of each `<tr>` of an HTML table (`<th>` and `<td>` alike), as inline text. */
function htmlTableRows(html: string): string[][] {
  return [...html.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/gi)].map((row) =>
    [...row[1]!.matchAll(/<t([hd])[^>]*>([\s\S]*?)<\/t\1>/gi)].map((cell) => inline(cell[2]!.trim(), ', ')),
  );
}

function renderTable(lines: string[]): string[] {
  let rows = lines.map(splitRow).filter((r) => !r.every((c) => /^:?-+:?$/.test(c)));
  // The stages' key/value tables have an empty header row.
  if (rows[0]?.every((c) => c === '')) rows = rows.slice(1);
  return alignRows(rows);
}

function alignRows(rows: string[][]): string[] {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...rows.map((r) => width(r[i] ?? ''))));
  return rows.map((r) => `  ${widths.map((w, i) => (r[i] ?? '') + ' '.repeat(w - width(r[i] ?? ''))).join('   ').trimEnd()}`);
}

/** A job summary as terminal text: headings underlined, tables aligned, code indented, mermaid charts named only. */
export function renderSummary(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s*```\s*(\S*)/.exec(line);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]!); i++) body.push(lines[i]!);
      if (fence[1] === 'mermaid') out.push('  (a chart: shown in the job summary on GitHub)');
      else out.push(...body.map((b) => `    ${b}`));
      continue;
    }
    // An HTML table (core.summary.addTable writes it on one line): its rows as the Markdown ones.
    if (/^\s*<table[\s>]/i.test(line)) {
      let html = line;
      for (; !/<\/table>/i.test(html) && i + 1 < lines.length; ) html += `\n${lines[++i]!}`;
      out.push(...alignRows(htmlTableRows(html)));
      continue;
    }
    if (/^\s*\|/.test(line)) {
      const table: string[] = [];
      for (; i < lines.length && /^\s*\|/.test(lines[i]!); i++) table.push(lines[i]!);
      i--;
      out.push(...renderTable(table));
      continue;
    }
    const heading = /^\s*(?:(#{1,6})\s+(.*)|<h([1-6])>(.*?)<\/h[1-6]>)\s*$/i.exec(line);
    if (heading) {
      const text = inline(heading[2] ?? heading[4] ?? '', ' ');
      const level = heading[1]?.length ?? Number(heading[3]);
      if (out.length && out[out.length - 1] !== '') out.push('');
      out.push(text, (level <= 2 ? '=' : '-').repeat(width(text)));
      continue;
    }
    const summaryLine = /<summary>(.*?)<\/summary>/i.exec(line);
    const text = inline(summaryLine ? `${summaryLine[1]}:` : line, ' ');
    if (text.trim() === '' && line.trim() !== '' && !summaryLine) continue; // a tag-only line (<details>)
    out.push(text);
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}
