// A container's environment as a docker --env-file, so values reach the container without being
// in the docker CLI's own environment (where DOCKER_HOST or PATH would reconfigure the CLI) or on
// its command line. Written private (0600 in a 0700 directory) and removed once docker has read it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// docker/cli opts/file.go (parseKeyValueFile): one VAR=value per line, read with a bufio.Scanner
// (64 KiB lines, a trailing \r dropped), the line left-trimmed, '#' lines skipped, the value taken
// verbatim: no quoting, no escapes, so no newline can be expressed.
const MAX_LINE = 64 * 1024 - 1;

/** Why this value cannot be written to an env file, or undefined when it can. */
export function envFileProblem(name: string, value: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `'${name}' is not a variable name`;
  if (/[\r\n\0]/.test(value)) return `the value of ${name} holds a line break or NUL: docker's env file has one VAR=value per line and no quoting`;
  if (Buffer.byteLength(`${name}=${value}`) > MAX_LINE) return `the value of ${name} is longer than docker's env file allows (64 KiB a line)`;
  return undefined;
}

export function envFileText(vars: Array<[string, string]>): string {
  for (const [name, value] of vars) {
    const problem = envFileProblem(name, value);
    if (problem) throw new Error(problem);
  }
  return vars.map(([name, value]) => `${name}=${value}\n`).join('');
}

/** A private directory (0700) under `parent` for files only this step may read. */
export function privateDir(parent: string, prefix: string): Promise<string> {
  return mkdtemp(join(parent, prefix));
}

/** Writes `text` to dir/name, mode 0600, failing if it exists. */
export async function writePrivateFile(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode: 0o600, flag: 'wx' });
  return path;
}

export async function removePrivate(path: string | undefined): Promise<void> {
  if (path) await rm(path, { recursive: true, force: true });
}
