// verify-reproducibility: two builds (or two given images, or this job's image against another
// job's description, or two jobs' descriptions) → one verdict, with every difference explained.
import * as core from '@actions/core';
import { mkdir, rm } from 'node:fs/promises';
import { actionInputs } from '../action/inputs.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { StageFailure } from '../action/stage.js';
import { compareImages, type ComparisonReport } from '../reproducibility/index.js';
import { artifactMode } from './artifact-mode.js';
import { parseVerifyInputs, type VerifyInputs } from './inputs.js';
import { publishReport } from './report.js';
import { rebuildDocker } from './rebuild-docker.js';
import { maskSecrets } from '../build-docker/secrets.js';
import { rebuildNix } from './rebuild-nix.js';

export async function main(): Promise<void> {
  const inputs = parseVerifyInputs(actionInputs, workspaceDir());
  if (inputs.builder === 'docker') maskSecrets(inputs.docker);
  const work = stageTempDir('verify-reproducibility');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });

  const report = await verdict(inputs, work);
  if (!report) return; // artifact mode that only uploaded a description
  const { json, markdown } = await publishReport(report, work, inputs.reportName);
  core.setOutput('reproducible', String(report.reproducible));
  core.setOutput('digest-a', report.digestA);
  core.setOutput('digest-b', report.digestB);
  core.setOutput('differences', String(report.counts.total));
  core.setOutput('report', json);
  core.setOutput('report-markdown', markdown);
  if (report.reproducible) {
    core.info(`Reproducible: both images are ${report.digestA}.`);
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

async function verdict(inputs: VerifyInputs, work: string): Promise<ComparisonReport | undefined> {
  switch (inputs.mode) {
    case 'compare':
      return compareImages(inputs.archiveA!, inputs.archiveB!);
    case 'artifact':
      return artifactMode(inputs, work);
    case 'rebuild': {
      if (inputs.builder === 'docker') {
        const { a, b } = await rebuildDocker(inputs.docker, work);
        return compareImages(a, b);
      }
      const rebuilt = await rebuildNix(inputs.nix, work);
      try {
        if (rebuilt.identical) core.info('nix build --rebuild: the second build is bit-identical to the first.');
        return await compareImages(rebuilt.a, rebuilt.b);
      } finally {
        await rebuilt.cleanup();
      }
    }
  }
}

