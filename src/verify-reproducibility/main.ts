// verify-reproducibility: two builds (or two given images, or this job's image against another
// job's description, or two jobs' descriptions) → one verdict, with every difference explained.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { mkdir, rm } from 'node:fs/promises';
import { actionIO, type StageIO } from '../action/io.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { StageFailure } from '../action/stage.js';
import { compareImages, type ComparisonReport } from '../reproducibility/index.js';
import { artifactMode } from './artifact-mode.js';
import { parseVerifyInputs, type VerifyInputs } from './inputs.js';
import { publishReport } from './report.js';
import { rebuildDocker } from './rebuild-docker.js';
import { maskSecrets } from '../build-docker/secrets.js';
import { rebuildNix } from './rebuild-nix.js';
import { discardImages, rebuildDiskNeed } from './discard.js';
import { dockerRootDir, peakDiskText, startStageSampler, type PeakDiskSampler } from '../tool/free-disk.js';
import { NIX_STORE } from '../build-nix/disk-need.js';

/** The outputs action.yml declares, claimed before main runs (src/action/claims.ts). */
export const OUTPUTS = ['reproducible', 'digest-a', 'digest-b', 'differences', 'report', 'report-markdown', 'rebuild-seconds'] as const;

export async function main(io: StageIO = actionIO): Promise<void> {
  const inputs = parseVerifyInputs(io.get, workspaceDir());
  if (inputs.builder === 'docker') maskSecrets(inputs.docker);
  const work = stageTempDir('verify-reproducibility');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  // Only the rebuild writes images: its peak extra disk goes under the verdict.
  const disk = inputs.mode === 'rebuild' ? await startStageSampler(work, inputs.builder === 'docker' ? await dockerRootDir() : NIX_STORE) : undefined;

  const { report, rebuildSeconds, imageBytes, reused } = await verdict(inputs, work);
  if (!report) return;
  const note = rebuildSeconds === undefined ? undefined : `${rebuildNote(inputs.builder, rebuildSeconds)}${reused ? ` ${capitalised(reused)}` : ''}${await diskNote(disk, imageBytes)}`;
  const { json, markdown } = await publishReport(report, work, inputs.reportName, note);
  io.setOutput('reproducible', String(report.reproducible));
  io.setOutput('digest-a', report.digestA);
  io.setOutput('digest-b', report.digestB);
  io.setOutput('differences', String(report.counts.total));
  io.setOutput('report', json);
  io.setOutput('report-markdown', markdown);
  if (rebuildSeconds !== undefined) io.setOutput('rebuild-seconds', rebuildSeconds.toFixed(1));
  if (report.reproducible) {
    logInfo(`Reproducible: both images are ${report.digestA}.`);
  } else {
    // The report's own order: the fixes that remove the most, then those of the rarest causes.
    const line = (l: ComparisonReport['fixFirst']['most'][number]): string => `${l.fixLabel} (${l.count}${l.examples[0] ? `, e.g. ${l.examples[0]}` : ''})`;
    const { most, rarest } = report.fixFirst;
    const headline = `Fix first: ${most.map(line).join('; ')}${rarest.length > 0 ? `. Rarest: ${rarest.map(line).join('; ')}` : ''}.`;
    const message = `Not reproducible: ${report.digestA} vs ${report.digestB}, ${report.counts.total} differences. ${headline}`;
    if (inputs.failOnDifference) throw new StageFailure('Image is not reproducible', message, 'See the job summary and the report artifact for every difference and its likely fix.');
    core.warning(message);
  }
}

/**
 * The summary's line on the second build: verify's dominant cost, kept cold on purpose, since a
 * rebuild fed by the first build's cache would only prove the cache reproducible.
 */
export function rebuildNote(builder: VerifyInputs['builder'], rebuildSeconds: number): string {
  const time = `${rebuildSeconds.toFixed(1)} s`;
  return builder === 'docker'
    ? `The rebuild (build B) is cold and independent by design: \`--no-cache\`, no cache imported or exported, nothing reused from build A's steps. It took ${time}, verify's dominant cost: run verify on a schedule or on release, on its own runner (docs/workflows.md).`
    : `The rebuild is \`nix build --rebuild\` by design: the image's derivation is built again from its inputs, not substituted. It took ${time}, verify's dominant cost: run verify on a schedule or on release, on its own runner (docs/workflows.md).`;
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** " Peak extra disk: …" for the summary's rebuild note; nothing without a sampler. */
async function diskNote(disk: PeakDiskSampler | undefined, imageBytes: number | undefined): Promise<string> {
  return disk ? ` Peak extra disk: ${peakDiskText(await disk.stop(), imageBytes)}; verify's own copies were removed once compared.` : '';
}

/** The report (none: artifact mode only uploaded a description) and, in rebuild mode, the second build's time and build A's image size. */
async function verdict(inputs: VerifyInputs, work: string): Promise<{ report?: ComparisonReport; rebuildSeconds?: number; imageBytes?: number; reused?: string }> {
  switch (inputs.mode) {
    case 'compare':
      return { report: await compareImages(inputs.archiveA!, inputs.archiveB!) };
    case 'artifact':
      return { report: await artifactMode(inputs, work) };
    case 'rebuild': {
      if (inputs.builder === 'docker') {
        const { a, b, rebuildSeconds, reused } = await rebuildDocker(inputs.docker, work, inputs.archiveA);
        try {
          return { report: await compareImages(a, b), rebuildSeconds, imageBytes: (await rebuildDiskNeed(a)).bytes, reused };
        } finally {
          await discardImages(work, [a, b]);
        }
      }
      const rebuilt = await rebuildNix(inputs.nix, work);
      try {
        if (rebuilt.identical) logInfo('nix build --rebuild: the second build is bit-identical to the first.');
        return { report: await compareImages(rebuilt.a, rebuilt.b), rebuildSeconds: rebuilt.rebuildSeconds, imageBytes: (await rebuildDiskNeed(rebuilt.a)).bytes };
      } finally {
        await rebuilt.cleanup();
        await discardImages(work, [rebuilt.a, rebuilt.b]);
      }
    }
  }
}

