// Nix: build, then `nix build --rebuild --keep-failed`: Nix rebuilds the image's derivation and,
// when the output differs, keeps the second one beside the first as <out>.check. The build log is
// the build's own text, so nothing to delete is taken from it: the builds run with a private
// TMPDIR (where Nix keeps failed build directories) that is removed whole, and the .check path
// is read only from Nix's own error line and checked to be one.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StageFailure } from '../action/stage.js';
import type { BuildNixInputs } from '../build-nix/inputs.js';
import { requireNix } from '../build-nix/nix-setup.js';
import { buildOrFail, resolveInstallable } from '../build-nix/installable.js';
import { NixCli } from '../nix/cli.js';
import { logTail } from '../nix/output.js';
import { imageFile } from '../oci/image-file.js';
import { formatBytes, requireFreeDisk } from '../tool/free-disk.js';
import { NIX_STORE } from '../build-nix/disk-need.js';
import { rebuildDiskNeed } from './discard.js';

export interface NixRebuild {
  a: string;
  b: string;
  /** Nix found both builds bit-identical (NAR equal): B is A. */
  identical: boolean;
  /** Wall-clock time of `nix build --rebuild`: the image's derivation built anew. */
  rebuildSeconds: number;
  cleanup(): Promise<void>;
}

const CHECK_PATH = /^\/nix\/store\/[0-9a-z]{32}-.+\.check$/;

/**
 * The .check path of Nix's own "may not be deterministic" error: a line starting with `error:`
 * (build log lines are prefixed with the derivation's name), naming a store path.
 */
export function checkOutputPath(stderr: string): string | undefined {
  const match = /^error: derivation '\/nix\/store\/[^']+\.drv' may not be deterministic: output '\/nix\/store\/[^']+' differs from '([^']+)'$/m.exec(stderr);
  const path = match?.[1];
  return path && CHECK_PATH.test(path) && !path.includes('/../') ? path : undefined;
}

export async function rebuildNix(inputs: BuildNixInputs, work: string): Promise<NixRebuild> {
  const found = await requireNix();
  await mkdir(work, { recursive: true });
  const tmp = await mkdtemp(join(work, 'nix-tmp-'));
  const nix = new NixCli(found.nix, found.version, { TMPDIR: tmp });
  let checkPath: string | undefined;
  const cleanup = async (): Promise<void> => {
    await rm(tmp, { recursive: true, force: true }).catch(() => logInfo(`Could not remove ${tmp}`));
    if (checkPath) await rm(checkPath, { recursive: true, force: true }).catch(() => logInfo(`Could not remove ${checkPath}`));
  };
  try {
    const installable = await resolveInstallable(nix, inputs);
    const { outPath } = await core.group('build A', () => buildOrFail(nix, installable, inputs.extraArgs, (line) => logInfo(line)));
    // --rebuild writes the image's own output again (as <out>.check when it differs).
    const outBytes = (await nix.pathInfo([outPath]))[0]?.narSize ?? 0;
    await requireFreeDisk('verify-reproducibility', NIX_STORE, { bytes: outBytes, basis: `the size of build A's output, ${formatBytes(outBytes)}` }, "build B's output (nix build --rebuild)");
    const started = performance.now();
    const second = await core.group('build B (nix build --rebuild)', () =>
      nix.build(installable, ['--rebuild', '--keep-failed', ...inputs.extraArgs], (line) => logInfo(line)),
    );
    const rebuildSeconds = (performance.now() - started) / 1000;
    checkPath = second.exitCode === 0 ? undefined : checkOutputPath(second.stderr);
    if (second.exitCode !== 0 && !checkPath) {
      throw new StageFailure('Nix rebuild failed', `nix build --rebuild ${installable} exited ${second.exitCode}`, `Last log lines:\n${logTail(second.stderr)}`);
    }
    // A stream script's output is the script; compare the streams it writes. The comparison reads
    // and verifies the images itself, so they are only located here.
    const a = (await imageFile(outPath, join(work, 'a.stream.tar'))).path;
    if (checkPath && a !== outPath) await requireFreeDisk('verify-reproducibility', work, await rebuildDiskNeed(a), "build B's image streamed out of its script");
    const b = checkPath ? (await imageFile(checkPath, join(work, 'b.stream.tar'))).path : a;
    return { a, b, identical: !checkPath, rebuildSeconds, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
