// Hostile Actions cache entries, as anyone who can write one entry in a scope the job reads can
// plant them: member names and types of their choosing, made with GNU tar -P (what @actions/cache
// itself runs) and stored through the real @actions/cache saveCache, whose tar call is replaced
// by a copy of the prepared archive.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { node24, REPO_ROOT } from './action-runner.js';

/** Each writes a file named `<kind>-pwned` into `victim` when extracted by `tar -xf … -P -C workspace`. */
export const HOSTILE_MEMBERS = ['absolute', 'dotdot', 'symlink-then-file'] as const;
export type HostileMember = (typeof HOSTILE_MEMBERS)[number];

/**
 * A zstd-compressed tar (as @actions/cache's ZstdWithoutLong writes it) naming `dir` as
 * @actions/cache does (relative to `workspace`), plus one hostile member of each kind asked for;
 * made in a new directory under `work`.
 */
export function hostileCacheArchive(kinds: HostileMember | HostileMember[], o: { workspace: string; dir: string; victim: string; work: string }): string {
  const stage = mkdtempSync(join(o.work, 'hostile-cache-'));
  const prefix = relative(o.workspace, o.dir);
  const tarFile = join(stage, 'cache.tar');
  mkdirSync(join(stage, 'root'));
  writeFileSync(join(stage, 'root', 'nix-cache-info'), 'StoreDir: /nix/store\n');
  writeFileSync(join(stage, 'file'), 'pwned\n');
  const tar = (...args: string[]): void => void execFileSync('tar', ['--posix', '-P', '-C', stage, ...args]);
  const list = typeof kinds === 'string' ? [kinds] : kinds;
  if (list.includes('symlink-then-file')) symlinkSync(o.victim, join(stage, 'root', 'link'));
  tar('-cf', tarFile, '--transform', `s,^root,${prefix},`, 'root');
  for (const kind of list) {
    const name = {
      absolute: join(o.victim, 'absolute-pwned'),
      dotdot: `${prefix}/${relative(o.dir, o.victim)}/dotdot-pwned`,
      'symlink-then-file': `${prefix}/link/symlink-then-file-pwned`,
    }[kind];
    tar('-rf', tarFile, '--transform', `s,^file$,${name},`, 'file');
  }
  execFileSync('zstd', ['-q', '-f', '--rm', tarFile, '-o', join(stage, 'cache.tzst')]);
  return join(stage, 'cache.tzst');
}

/**
 * Saves `archive` as the cache entry `key` for `dir` (an existing directory), through the real
 * @actions/cache in a child process (the cache stand-in answers from this one), with `env` the
 * job's (services, RUNNER_TEMP, GITHUB_WORKSPACE).
 */
export async function plantCacheArchive(env: Record<string, string>, dir: string, key: string, archive: string): Promise<void> {
  const bin = mkdtempSync(join(tmpdir(), 'plant-tar-'));
  // @actions/cache createTar runs `tar --posix -cf cache.tzst --exclude … -P -C … --files-from manifest.txt …` in its archive folder.
  writeFileSync(join(bin, 'tar'), '#!/bin/sh\n[ "$2" = "-cf" ] || exit 2\nexec cp -- "$PLANTED_ARCHIVE" "$3"\n');
  chmodSync(join(bin, 'tar'), 0o755);
  mkdirSync(dir, { recursive: true });
  const save = "const c = await import('@actions/cache'); if (await c.saveCache([process.argv[1]], process.argv[2]) === -1) process.exit(3);";
  try {
    await promisify(execFile)(node24(), ['--input-type=module', '-e', save, dir, key], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, PLANTED_ARCHIVE: archive, PATH: `${bin}:${process.env.PATH}` },
    });
  } finally {
    rmSync(bin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}
