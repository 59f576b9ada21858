// A fixture root for the ROCm readers: a KFD topology tree from test/fixtures/rocm/<target>, plus
// /dev/kfd, /dev/dri/renderD* and /etc/group made here (git keeps neither owners nor modes).
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './fixtures.js';

export const RENDER_GID = 992;
export const VIDEO_GID = 44;

export interface TreeOptions {
  /** false: no /dev/kfd. */
  kfd?: boolean;
  renderMinors?: number[];
  mode?: number;
}

export function rocmRoot(target: 'gfx1151' | 'gfx1100' | 'gfx942' | 'no-gpu', opts: TreeOptions = {}): string {
  const root = mkdtempSync(join(tmpdir(), `smoke-rocm-${target}-`));
  cpSync(fixture('rocm', target), root, { recursive: true });
  mkdirSync(join(root, 'dev/dri'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/group'), `root:x:0:\nvideo:x:${VIDEO_GID}:\nrender:x:${RENDER_GID}:\nrunner:x:1001:\n`);
  const mode = opts.mode ?? 0o660;
  if (opts.kfd ?? target !== 'no-gpu') {
    writeFileSync(join(root, 'dev/kfd'), '');
    chownSync(join(root, 'dev/kfd'), 0, RENDER_GID);
    chmodSync(join(root, 'dev/kfd'), mode);
  }
  for (const minor of opts.renderMinors ?? (target === 'no-gpu' ? [] : target === 'gfx942' ? [128, 136] : [128])) {
    const path = join(root, `dev/dri/renderD${minor}`);
    writeFileSync(path, '');
    chownSync(path, 0, RENDER_GID);
    chmodSync(path, mode);
  }
  return root;
}

/** A bin directory of fake ROCm tools: each prints a fixture file, or sleeps (a hanging tool). */
export function fakeTools(tools: Record<string, { print?: string; sleep?: number; exit?: number }>): string {
  const bin = mkdtempSync(join(tmpdir(), 'smoke-tools-'));
  for (const [name, spec] of Object.entries(tools)) {
    const body = spec.sleep ? `exec sleep ${spec.sleep}` : `cat '${fixture('rocm', 'tools', spec.print!)}'\nexit ${spec.exit ?? 0}`;
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}
