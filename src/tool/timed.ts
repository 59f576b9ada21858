// Runs a program under a hard timeout: on expiry its whole process group is killed, so a hung
// tool (amd-smi has been seen to hang on gfx1151) never stalls a step.
import { spawn } from 'node:child_process';

export interface TimedResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Killed after timeoutMs. */
  timedOut: boolean;
  /** The program is not installed (ENOENT). */
  missing: boolean;
  ms: number;
}

export interface TimedOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Output beyond this many bytes per stream is dropped (a chatty tool cannot exhaust memory). */
  maxBytes?: number;
}

export function runTimed(command: string, args: string[], opts: TimedOptions): Promise<TimedResult> {
  const started = performance.now();
  const limit = opts.maxBytes ?? 4 << 20;
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let missing = false;
    child.stdout.on('data', (d: Buffer) => {
      if (outBytes < limit) out.push(d);
      outBytes += d.length;
    });
    child.stderr.on('data', (d: Buffer) => {
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
