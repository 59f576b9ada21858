// Real-Nix helpers for the Nix stages' tests. A NixHost is where Nix runs: this machine
// (Debian 12's nix-bin 2.8) or the trixie root with nix-bin 2.26 (scripts/in-trixie.sh).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './action-runner.js';
import { fixture } from './fixtures.js';
import { sh } from './tools.js';

export interface NixHost {
  label: string;
  /** Prefix for the runner's node command (runStep's wrap). */
  wrap: string[];
  /** The node binary inside that host. */
  node?: string;
  /** Runs a program (nix, nix-store, …) on that host and returns its stdout. */
  run(command: string, args: string[]): string;
  /** A store path as the test process sees it. */
  hostPath(path: string): string;
}

export const THIS_MACHINE: NixHost = {
  label: "this machine's Nix",
  wrap: [],
  run: sh,
  hostPath: (path) => path,
};

/**
 * A step prefix under which this machine has no Nix: /usr/bin/nix hidden in a private mount
 * namespace. Absolute paths, so it works with a bare PATH; bash rather than dash, which would drop
 * the runner's hyphenated INPUT_* variables from the environment.
 */
export const WITHOUT_HOST_NIX = ['/usr/bin/unshare', '--mount', '/bin/bash', '-c', '/bin/mount --bind /dev/null /usr/bin/nix && exec "$@"', 'no-nix'];

export const TRIXIE_ROOT = process.env.NIX_TRIXIE_ROOT ?? '/var/lib/vllm-rocm-action/trixie-root';

/** trixie's Nix, set up by scripts/setup-nix-trixie.sh; a missing root fails the test, never skips it. */
export function trixieHost(): NixHost {
  if (!existsSync(join(TRIXIE_ROOT, '.vllm-rocm-action-trixie-ready'))) {
    throw new Error(`${TRIXIE_ROOT} is not set up: run scripts/setup-nix-trixie.sh (setup-toolchain.sh does)`);
  }
  const wrap = ['/bin/bash', join(REPO_ROOT, 'scripts', 'in-trixie.sh'), '--bind', REPO_ROOT, '--'];
  return {
    label: "trixie's Nix (debootstrap root)",
    wrap,
    node: '/usr/local/bin/node24',
    run: (command, args) => sh(wrap[0]!, [...wrap.slice(1), command, ...args]),
    hostPath: (path) => join(TRIXIE_ROOT, path),
  };
}

export function nixFlakeFixture(name: string, into: string): string {
  cpSync(fixture('nix', 'flakes', name), into, { recursive: true });
  return into;
}

/** Makes the store "fresh" for a closure: its paths, and every path referring to them, are deleted. */
export function deleteClosure(storePath: string, host: NixHost = THIS_MACHINE): string[] {
  const closure = host.run('nix-store', ['--query', '--requisites', storePath]).split('\n').filter(Boolean);
  // Other fixtures' images may share a dependency: their referrers go too.
  const doomed = host.run('nix-store', ['--query', '--referrers-closure', ...closure]).split('\n').filter(Boolean);
  host.run('nix-store', ['--delete', '--ignore-liveness', ...doomed]);
  const left = host.run('nix-store', ['--check-validity', '--print-invalid', ...closure]).split('\n').filter(Boolean);
  if (left.length !== closure.length) throw new Error(`could not delete the closure of ${storePath}`);
  return closure;
}

export interface KeyPair {
  secret: string;
  public: string;
}

/** A binary-cache signing key pair, made by Nix itself (nix-store exists in every version). */
export function generateKeyPair(name: string): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'nix-key-'));
  execFileSync('nix-store', ['--generate-binary-cache-key', name, join(dir, 'sk'), join(dir, 'pk')]);
  return { secret: readFileSync(join(dir, 'sk'), 'utf8').trim(), public: readFileSync(join(dir, 'pk'), 'utf8').trim() };
}
