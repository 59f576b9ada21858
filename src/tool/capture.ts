// Runs a program quietly and returns its output; a program that is not installed is a clear error.
import * as exec from '@actions/exec';

export class ToolMissingError extends Error {}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CaptureOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: Buffer;
}

export function processEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
}

export async function capture(command: string, args: string[], opts: CaptureOptions = {}): Promise<CommandResult> {
  try {
    const result = await exec.getExecOutput(command, args, {
      ignoreReturnCode: true,
      silent: true,
      env: opts.env ? { ...processEnv(), ...opts.env } : undefined,
      cwd: opts.cwd,
      input: opts.input,
    });
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  } catch (error) {
    // @actions/exec throws when the program is not on PATH.
    throw new ToolMissingError(`${command} is not installed or not on PATH (${(error as Error).message})`);
  }
}
