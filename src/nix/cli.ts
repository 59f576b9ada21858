// The nix commands the Nix stages run, with the version differences handled in one place.
import * as exec from '@actions/exec';
import type { Version } from '../tool/version.js';
import { processEnv, type CommandResult } from '../tool/capture.js';
import { nixFeatures, type NixFeatures } from './version.js';
import { parseBuildJson, parseUntrustedPaths, parseDryRun, parsePathInfoJson, type BuildResult, type DryRun, type PathInfo } from './output.js';

export class NixCommandError extends Error {
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.stderr = stderr;
  }
}

// Flakes on whatever nix.conf the machine has; no dirty-tree warnings in the log.
const COMMON = ['--extra-experimental-features', 'nix-command flakes', '--option', 'warn-dirty', 'false'];

export class NixCli {
  readonly features: NixFeatures;

  constructor(
    readonly nix: string,
    readonly version: Version,
    private readonly env: Record<string, string> = {},
  ) {
    this.features = nixFeatures(version);
  }

  /** Runs nix; stderr lines go to `log` as they come when given. */
  async run(args: string[], log?: (line: string) => void, input?: Buffer): Promise<CommandResult> {
    let stdout = '';
    let stderr = '';
    let partial = '';
    const exitCode = await exec.exec(this.nix, [...args.slice(0, 1), ...COMMON, ...args.slice(1)], {
      ignoreReturnCode: true,
      silent: true,
      input,
      env: { ...processEnv(), ...this.env },
      listeners: {
        stdout: (d: Buffer) => {
          stdout += d.toString('utf8');
        },
        stderr: (d: Buffer) => {
          const text = d.toString('utf8');
          stderr += text;
          if (!log) return;
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) log(line);
        },
      },
    });
    if (log && partial) log(partial);
    return { exitCode, stdout, stderr };
  }

  private async ok(args: string[], what: string, log?: (line: string) => void): Promise<CommandResult> {
    const result = await this.run(args, log);
    if (result.exitCode !== 0) throw new NixCommandError(`${what} failed (nix ${args[0]} exited ${result.exitCode})`, result.stderr);
    return result;
  }

  async evalRaw(installable: string): Promise<string> {
    return (await this.ok(['eval', '--raw', installable], `evaluating ${installable}`)).stdout;
  }

  async evalJson<T>(installable: string, apply?: string): Promise<T> {
    const args = ['eval', '--json', installable, ...(apply ? ['--apply', apply] : [])];
    return JSON.parse((await this.ok(args, `evaluating ${installable}`)).stdout) as T;
  }

  async dryRun(installable: string, extraArgs: string[]): Promise<DryRun> {
    const result = await this.ok(['build', '--dry-run', '--no-link', installable, ...extraArgs], `planning the build of ${installable}`);
    return parseDryRun(result.stderr);
  }

  /** `nix build --json` works on every supported version (--print-out-paths only from 2.9). */
  async build(installable: string, extraArgs: string[], log: (line: string) => void): Promise<{ result?: BuildResult; stderr: string; exitCode: number }> {
    const run = await this.run(['build', '--no-link', '--json', '--print-build-logs', installable, ...extraArgs], log);
    if (run.exitCode !== 0) return { stderr: run.stderr, exitCode: run.exitCode };
    const results = parseBuildJson(run.stdout);
    return { result: results[0], stderr: run.stderr, exitCode: 0 };
  }

  async pathInfo(paths: string[], opts: { recursive?: boolean; store?: string } = {}): Promise<PathInfo[]> {
    if (paths.length === 0) return [];
    const args = ['path-info', '--json', ...(opts.recursive ? ['--recursive'] : []), ...(opts.store ? ['--store', opts.store] : []), ...paths];
    const result = await this.run(args);
    // A store lacking some paths exits non-zero but still describes the ones it has (or prints nothing).
    if (result.exitCode !== 0 && !result.stdout.trim()) {
      if (opts.store) return [];
      throw new NixCommandError('nix path-info failed', result.stderr);
    }
    return parsePathInfoJson(result.stdout);
  }

  /** Store paths among `paths` that the local store does not hold. */
  async invalidPaths(paths: string[]): Promise<string[]> {
    if (paths.length === 0) return [];
    const store = await this.storeCommand();
    const result = await exec.getExecOutput(store, ['--check-validity', '--print-invalid', ...paths], { ignoreReturnCode: true, silent: true, env: { ...processEnv(), ...this.env } });
    return result.stdout.split('\n').filter(Boolean);
  }

  /** nix-store lives beside nix in every install. */
  async storeCommand(): Promise<string> {
    return this.nix.replace(/nix$/, 'nix-store');
  }

  /** Signs exactly `paths` (never --recursive: the caller decides which paths deserve the key). */
  async sign(keyFile: string, paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    await this.ok(['store', 'sign', '--key-file', keyFile, ...paths], 'signing store paths');
  }

  /** The public key of a secret key, given on stdin (never in argv). */
  async publicKey(secretKey: string): Promise<string> {
    const result = await this.run(['key', 'convert-secret-to-public'], undefined, Buffer.from(secretKey));
    if (result.exitCode !== 0) throw new NixCommandError('nix key convert-secret-to-public failed', result.stderr);
    return result.stdout.trim();
  }

  /**
   * Paths of `root`'s closure Nix does not trust: neither built by this store ("ultimate") nor
   * signed by one of `keys` or the configured trusted-public-keys.
   */
  async untrustedClosure(root: string, keys: string[]): Promise<string[]> {
    const args = ['store', 'verify', '--no-contents', '--recursive', ...(keys.length > 0 ? ['--option', 'extra-trusted-public-keys', keys.join(' ')] : []), root];
    const result = await this.run(args);
    const untrusted = parseUntrustedPaths(result.stderr);
    if (result.exitCode !== 0 && untrusted.length === 0) throw new NixCommandError('nix store verify failed', result.stderr);
    return untrusted;
  }

  async copyTo(url: string, paths: string[], log?: (line: string) => void, options: string[] = []): Promise<void> {
    await this.ok(['copy', ...options, '--to', url, ...paths], `copying to ${redactUrl(url)}`, log);
  }

  async copyFrom(url: string, paths: string[], checkSigs: boolean, extraOptions: string[] = []): Promise<void> {
    await this.ok(['copy', '--from', url, ...(checkSigs ? [] : ['--no-check-sigs']), ...extraOptions, ...paths], `copying from ${redactUrl(url)}`);
  }
}

/** Binary cache URLs can carry credentials (s3 keys, user:password@). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    for (const key of [...u.searchParams.keys()]) if (/secret|token|key|password/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return url;
  }
}

export type { DryRun, PathInfo, BuildResult };
