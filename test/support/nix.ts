// Real-Nix helpers for the Nix stages' tests.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './fixtures.js';

export function nixFlakeFixture(name: string, into: string): string {
  cpSync(fixture('nix', 'flakes', name), into, { recursive: true });
  return into;
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Makes the store "fresh" for a closure: its paths, and every path referring to them, are deleted. */
export function deleteClosure(storePath: string): string[] {
  const closure = run('nix-store', ['--query', '--requisites', storePath]).split('\n').filter(Boolean);
  // Other fixtures' images may share a dependency: their referrers go too.
  const doomed = run('nix-store', ['--query', '--referrers-closure', ...closure]).split('\n').filter(Boolean);
  execFileSync('nix-store', ['--delete', '--ignore-liveness', ...doomed], { stdio: 'ignore' });
  const left = run('nix-store', ['--check-validity', '--print-invalid', ...closure]).split('\n').filter(Boolean);
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
