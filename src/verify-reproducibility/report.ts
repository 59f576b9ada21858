// The verdict's outputs: JSON report and Markdown beside each other under RUNNER_TEMP, the job
// summary (verdict first, always under GitHub's 1 MiB), and the JSON report as an artifact.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uploadFiles } from '../action/artifact.js';
import { errorMessage } from '../action/stage.js';
import { renderMarkdown, type ComparisonReport } from '../reproducibility/index.js';

/** `note`: one line of this stage's own text under the verdict (the rebuild's cost). */
export async function publishReport(report: ComparisonReport, work: string, reportName: string, note?: string): Promise<{ json: string; markdown: string }> {
  const json = join(work, `${reportName}.json`);
  const markdown = join(work, `${reportName}.md`);
  const rendered = renderMarkdown(report, { title: 'Reproducibility' });
  const text = note ? `${rendered.trimEnd()}\n\n${note}\n` : rendered;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdown, text);
  await core.summary.addRaw(text, true).write();
  try {
    await uploadFiles(reportName, [json]);
    logInfo(`Uploaded the full report as artifact '${reportName}'.`);
  } catch (error) {
    core.warning(`The report could not be uploaded as an artifact (${errorMessage(error)}); it is at ${json}.`);
  }
  return { json, markdown };
}
