// Digests of file byte ranges, computed in worker threads: verifying the blobs that need no
// comparison (equal layers, compression-only layers) runs on every core while the main thread
// walks the layers that differ. Each worker reads with one reused buffer (no per-chunk
// allocation) and hashes with node:crypto (OpenSSL).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Run as a CommonJS script (eval: true), so that it survives bundling into one file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(4 << 20);
parentPort.on('message', (job) => {
  let fd;
  try {
    fd = openSync(job.path, 'r');
    const hash = createHash(job.algorithm);
    let position = job.start;
    let left = job.length;
    while (left > 0) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, left), position);
      if (n === 0) throw new Error('the file ends ' + left + ' bytes early');
      hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
      position += n;
      left -= n;
    }
    parentPort.postMessage({ id: job.id, digest: job.algorithm + ':' + hash.digest('hex') });
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: String((error && error.message) || error) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

interface Job {
  id: number;
  path: string;
  start: number;
  length: number;
  algorithm: string;
  resolve: (digest: string) => void;
  reject: (error: Error) => void;
}

interface Reply {
  id: number;
  digest?: string;
  error?: string;
}

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, Job>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly size = Math.max(1, Math.min(4, availableParallelism()))) {}

  /** `algorithm:hex` of bytes [start, start+length) of the file. */
  digestRange(path: string, start: number, length: number, algorithm = 'sha256'): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the hash pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, path, start, length, algorithm, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the hash pool was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker && this.workers.length < this.size) worker = this.spawn();
      if (!worker) return;
      const job = this.queue.shift()!;
      this.running.set(job.id, job);
      (worker as Worker & { jobId?: number }).jobId = job.id;
      worker.postMessage({ id: job.id, path: job.path, start: job.start, length: job.length, algorithm: job.algorithm });
    }
  }

  private spawn(): Worker {
    // Not unref'd: a caller awaiting a digest must keep the process alive. close() ends them.
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (reply: Reply) => {
      const job = this.running.get(reply.id);
      this.running.delete(reply.id);
      this.idle.push(worker);
      if (job) {
        if (reply.error !== undefined) job.reject(new Error(reply.error));
        else job.resolve(reply.digest!);
      }
      this.dispatch();
    });
    worker.on('error', (error) => {
      const id = (worker as Worker & { jobId?: number }).jobId;
      const job = id === undefined ? undefined : this.running.get(id);
      if (job) {
        this.running.delete(job.id);
        job.reject(error);
      }
      const at = this.workers.indexOf(worker);
      if (at !== -1) this.workers.splice(at, 1);
      this.dispatch();
    });
    this.workers.push(worker);
    return worker;
  }
}
