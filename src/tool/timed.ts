// Runs a program under a hard timeout: on expiry its whole process group is killed, so a hung
// tool (amd-smi has been seen to hang on gfx1151) never stalls a step.
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface TimedResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Killed after timeoutMs. */
  timedOut: boolean;
  /** Why `input` could not be fed in full (the program was then killed). */
  inputError?: Error;
  /** The program is not installed (ENOENT). */
  missing: boolean;
  ms: number;
}

export interface TimedOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Output beyond this many bytes per stream is dropped (a chatty tool cannot exhaust memory). */
  maxBytes?: number;
  /** Fed to the program's stdin (else stdin is closed). An error from it kills the program. */
  input?: AsyncIterable<Buffer>;
}

export function runTimed(command: string, args: string[], opts: TimedOptions): Promise<TimedResult> {
  const started = performance.now();
  const limit = opts.maxBytes ?? 4 << 20;
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: opts.env ?? process.env, stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
    let inputError: Error | undefined;
    if (opts.input && child.stdin) {
      // The program may stop reading early (it failed): that EPIPE is its own error, reported by its exit status.
      pipeline(Readable.from(opts.input), child.stdin).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') return;
        inputError = error;
        killGroup(child.pid);
      });
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let missing = false;
    child.stdout!.on('data', (d: Buffer) => {
      if (outBytes < limit) out.push(d);
      outBytes += d.length;
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (errBytes < limit) err.push(d);
      errBytes += d.length;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') missing = true;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        exitCode: code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        missing,
        ...(inputError ? { inputError } : {}),
        ms: performance.now() - started,
      });
    });
  });
}

/** SIGKILLs a process group led by pid (spawned with detached: true); a group already gone is fine. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
