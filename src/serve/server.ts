// A running server, whether a container or a host process: its log, its exit, and how to stop it.
import { spawn } from 'node:child_process';
import { ServerLog } from './log.js';
import { killGroup, runTimed } from '../tool/timed.js';

export interface ServerExit {
  code: number | null;
  detail: string;
}

export interface ServerHandle {
  kind: 'container' | 'process';
  /** Container name, or the process group ID. */
  id: string;
  log: ServerLog;
  /** Settles when the server exits (never rejects). */
  exited: Promise<ServerExit>;
  hasExited(): boolean;
  /** Stops and removes it; returns once it is gone. */
  stop(): Promise<void>;
}

const DOCKER_TIMEOUT_MS = 120_000;

/** `docker run -d` with a prepared argv (see dockerRunArgs); then follows its log and waits for its exit. */
export async function startContainer(runArgs: string[], name: string, logPath: string, env: NodeJS.ProcessEnv): Promise<ServerHandle> {
  const log = new ServerLog(logPath);
  const run = await runTimed('docker', runArgs, { timeoutMs: DOCKER_TIMEOUT_MS, env });
  if (run.missing) throw new Error('docker is not installed or not on PATH');
  if (run.exitCode !== 0) {
    // A container that was created but not started (bad --device) must not be left behind.
    await runTimed('docker', ['rm', '-f', name], { timeoutMs: DOCKER_TIMEOUT_MS });
    for (const line of run.stderr.trim().split('\n')) log.add(line);
    await log.close();
    throw new Error(`docker run failed${run.timedOut ? ' (timed out)' : ` (exit ${run.exitCode})`}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  const logs = spawn('docker', ['logs', '--follow', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  log.follow(logs.stdout);
  log.follow(logs.stderr);
  const logsEnded = new Promise<void>((resolve) => logs.on('close', () => resolve()));
  let exitedFlag = false;
  const exited = new Promise<ServerExit>((resolve) => {
    const wait = spawn('docker', ['wait', name], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    wait.stdout.on('data', (d: Buffer) => (out += d.toString()));
    wait.on('close', async () => {
      const code = /^\d+$/.test(out.trim()) ? Number(out.trim()) : null;
      // Let the log follower drain the last lines: they hold the reason.
      await Promise.race([logsEnded, new Promise((r) => setTimeout(r, 2000))]);
      exitedFlag = true;
      resolve({ code, detail: code === null ? 'the container is gone' : `the container exited with code ${code}` });
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    kind: 'container',
    id: name,
    log,
    exited,
    hasExited: () => exitedFlag,
    stop: () =>
      (stopped ??= (async () => {
        await runTimed('docker', ['rm', '--force', '--volumes', name], { timeoutMs: DOCKER_TIMEOUT_MS });
        await Promise.race([logsEnded, new Promise((r) => setTimeout(r, 2000))]);
        logs.kill('SIGKILL');
        await log.close();
      })()),
  };
}

/** Spawns argv in its own process group (so the whole tree can be ended), its output into the log. */
export function startProcess(argv: string[], logPath: string, env: NodeJS.ProcessEnv, cwd?: string): ServerHandle {
  const log = new ServerLog(logPath);
  const child = spawn(argv[0]!, argv.slice(1), { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  log.follow(child.stdout);
  log.follow(child.stderr);
  let exitedFlag = false;
  const exited = new Promise<ServerExit>((resolve) => {
    child.on('error', (error) => {
      exitedFlag = true;
      log.add(`failed to start ${argv[0]}: ${error.message}`);
      resolve({ code: null, detail: `${argv[0]} could not be started (${error.message})` });
    });
    child.on('close', (code, signal) => {
      exitedFlag = true;
      resolve({ code, detail: signal ? `the process was killed by ${signal}` : `the process exited with code ${code}` });
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    kind: 'process',
    id: String(child.pid ?? ''),
    log,
    exited,
    hasExited: () => exitedFlag,
    stop: () =>
      (stopped ??= (async () => {
        if (!exitedFlag) {
          killGroup(child.pid, 'SIGTERM');
          const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2500))]);
          if (!gone) killGroup(child.pid, 'SIGKILL');
          await exited;
        }
        // Grandchildren that outlived the leader still belong to the group.
        killGroup(child.pid, 'SIGKILL');
        await log.close();
      })()),
  };
}

/** Removes every container carrying label key=value (this step's, even from a main that crashed). */
export async function removeLabelledContainers(label: string): Promise<string[]> {
  const list = await runTimed('docker', ['ps', '--all', '--quiet', '--filter', `label=${label}`], { timeoutMs: DOCKER_TIMEOUT_MS });
  if (list.missing || list.exitCode !== 0) return [];
  const ids = list.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (ids.length > 0) await runTimed('docker', ['rm', '--force', '--volumes', ...ids], { timeoutMs: DOCKER_TIMEOUT_MS });
  return ids;
}
