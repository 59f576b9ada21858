// The server's log as it is written: every line to a file (uploaded as an artifact), the last lines
// kept for the failure annotation, and each line offered to a watcher (failure signatures).
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

export class ServerLog {
  private readonly tail: string[] = [];
  private readonly file: WriteStream;
  private readonly watchers: Array<(line: string) => void> = [];
  private partial = new Map<Readable, string>();
  lineCount = 0;

  constructor(
    readonly path: string,
    private readonly keep = 200,
  ) {
    this.file = createWriteStream(path, { flags: 'a' });
  }

  /** Follows a stream until it ends. */
  follow(stream: Readable): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const text = (this.partial.get(stream) ?? '') + chunk;
      const lines = text.split(/\r?\n/);
      this.partial.set(stream, lines.pop()!);
      for (const line of lines) this.add(line);
    });
    stream.on('end', () => {
      const rest = this.partial.get(stream);
      if (rest) this.add(rest);
      this.partial.delete(stream);
    });
  }

  add(line: string): void {
    this.lineCount++;
    this.file.write(`${line}\n`);
    this.tail.push(line);
    if (this.tail.length > this.keep) this.tail.shift();
    for (const watch of this.watchers) watch(line);
  }

  onLine(watch: (line: string) => void): void {
    this.watchers.push(watch);
  }

  lastLines(n = 30): string[] {
    return this.tail.slice(-n);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.file.end(resolve));
  }
}
