// build-nix, main phase: evaluate, restore the closure from the Actions cache, build, describe
// the image, sign and push when asked, and report.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { actionIO, type StageIO } from '../action/io.js';
import { saveMainPhases, savePeakDisk, seconds } from '../action/job-time.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { registerSecret } from '../action/secrets.js';
import { NixCli } from '../nix/cli.js';
import { describeImagePath } from '../oci/image-file.js';
import { cacheDirs, cacheTrust, nixCacheKey, restoreNixCache, type CacheTrust, type NixCacheState } from './binary-cache.js';
import { parseBuildNixInputs } from './inputs.js';
import { buildOrFail, resolveInstallable } from './installable.js';
import { requireNix } from './nix-setup.js';
import { maskPushTo, push } from './push.js';
import { saveCacheState } from './state.js';
import { writeSummary } from './summary.js';
import { requireFreeDisk, startStageSampler } from '../tool/free-disk.js';
import { NIX_STORE, storeDiskNeed, streamDiskNeed } from './disk-need.js';

/** The outputs action.yml declares, claimed before main runs (src/action/claims.ts). */
export const OUTPUTS = ['store-path', 'drv-path', 'nar-hash', 'image-archive', 'digest', 'size-bytes', 'build-seconds', 'restore-seconds', 'paths-built', 'paths-substituted'] as const;

export async function main(io: StageIO = actionIO): Promise<void> {
  const mainStarted = process.hrtime.bigint();
  const work = stageTempDir('build-nix');
  const disk = await startStageSampler(work, NIX_STORE);
  // Secrets are masked before the inputs are even parsed (a parse error quotes the input).
  maskPushTo(io.get('push-to'));
  const inputs = parseBuildNixInputs(io.get, workspaceDir());
  if (inputs.signingKey) registerSecret(inputs.signingKey);
  const nix = await requireNix();
  logInfo(`Nix ${nix.version.raw} at ${nix.nix}`);

  const installable = await resolveInstallable(nix, inputs);
  // (Not named outPath: toJSON would print an attrset with an outPath as that string.)
  const evaluated = await nix.evalJson<{ drv: string; out: string }>(installable, 'd: { drv = d.drvPath; out = d.outPath; }');
  const { key, restoreKeys } = await nixCacheKey(inputs, nix.version.raw, evaluated.drv, workspaceDir());
  const { dir, newDir } = cacheDirs();
  const state: NixCacheState = { key, dir, newDir, pathsBuilt: 0 };
  // The signing key is also a verification key: what this job signs, it accepts.
  const trust = cacheTrust(inputs, inputs.signingKey ? await nix.publicKey(inputs.signingKey) : undefined);

  let imported: string[] = [];
  const evaluateSeconds = seconds(mainStarted);
  const restoreStarted = process.hrtime.bigint();
  if (inputs.cache === 'gha') {
    const restored = await restoreNixCache(nix, key, restoreKeys, evaluated.out, trust);
    state.restoredKey = restored.restoredKey;
    imported = restored.imported;
    saveCacheState(state);
  }

  // Restoring: the Actions cache download and the signature-checked import into the store.
  const restoreSeconds = seconds(restoreStarted);
  const plan = await nix.dryRun(installable, inputs.extraArgs);
  logInfo(`To build: ${plan.toBuild.length} derivations; to fetch from substituters: ${plan.toFetch.length} paths.`);
  if (plan.toBuild.length + plan.toFetch.length > 0) await requireFreeDisk('build-nix', NIX_STORE, storeDiskNeed(), 'the paths nix build writes');
  const started = process.hrtime.bigint();
  const { drvPath: builtDrv, outPath } = await buildOrFail(nix, installable, inputs.extraArgs, (line) => logInfo(line));
  const buildSeconds = seconds(started);
  state.outPath = outPath;
  state.pathsBuilt = plan.toBuild.length;
  if (inputs.cache === 'gha') saveCacheState(state);

  const closure = await nix.pathInfo([outPath], { recursive: true });
  const info = closure.find((p) => p.path === outPath);
  const closurePaths = new Set(closure.map((p) => p.path));
  const pathsSubstituted = plan.toFetch.length + imported.filter((p) => closurePaths.has(p)).length;

  const stream = await streamDiskNeed(outPath, closure);
  if (stream) await requireFreeDisk('build-nix', work, stream, 'the image streamed out of its script');
  await mkdir(work, { recursive: true });
  const image = await describeImagePath(outPath, join(work, 'image-stream.tar'));

  const pushStarted = process.hrtime.bigint();
  if (inputs.signingKey) await signTrusted(nix, inputs.signingKey, outPath, [...closurePaths], trust, work);
  let pushed = '';
  if (inputs.pushTo) pushed = await push(nix, inputs.pushTo, outPath, work);
  const pushSeconds = seconds(pushStarted);

  const cacheHit = state.restoredKey === undefined ? 'miss' : state.restoredKey === key ? 'hit' : `partial (${state.restoredKey})`;
  const outputs: Record<string, string> = {
    'store-path': outPath,
    'drv-path': builtDrv,
    'nar-hash': info?.narHash ?? '',
    'image-archive': image.path,
    digest: image.digest,
    'size-bytes': String(image.sizeBytes),
    'build-seconds': buildSeconds.toFixed(1),
    'restore-seconds': restoreSeconds.toFixed(1),
    'paths-built': String(plan.toBuild.length),
    'paths-substituted': String(pathsSubstituted),
  };
  for (const [name, value] of Object.entries(outputs)) io.setOutput(name, value);
  logInfo(`Built ${outPath} (${image.kind}, ${image.digest}) in ${buildSeconds.toFixed(1)} s (restoring the cache: ${restoreSeconds.toFixed(1)} s); ${plan.toBuild.length} built, ${pathsSubstituted} substituted.`);
  await writeSummary({ inputs, outputs, imageKind: image.kind, cacheKey: inputs.cache === 'gha' ? key : undefined, cacheHit, cacheTrust: trust.mode, pushed });
  saveMainPhases(
    [
      ['evaluate the flake', evaluateSeconds],
      ['restore the cache (Actions cache, import)', restoreSeconds],
      ['nix build', buildSeconds],
      ['sign and push', pushSeconds],
    ],
    seconds(mainStarted),
  );
  savePeakDisk({ peakBytes: await disk.stop(), imageBytes: image.sizeBytes });
}

/**
 * Signs only what this store built itself or got with a trusted signature: a path imported
 * unverified (in this job or, on a persistent runner, an earlier one) never gets the key.
 */
async function signTrusted(nix: NixCli, key: string, outPath: string, closure: string[], trust: CacheTrust, work: string): Promise<void> {
  const untrusted = new Set(await nix.untrustedClosure(outPath, trust.mode === 'signed' ? trust.keys : []));
  if (untrusted.size > 0) {
    core.warning(`Not signing ${untrusted.size} store path(s) that were neither built here nor signed by a trusted key: ${[...untrusted].join(', ')}`);
  }
  const keyFile = join(work, 'signing-key');
  await writeFile(keyFile, key, { mode: 0o600 });
  try {
    await nix.sign(keyFile, closure.filter((p) => !untrusted.has(p)));
  } finally {
    await rm(keyFile, { force: true });
  }
}
