// The server log (and the report) as an artifact. Absent artifact service (a runner outside Actions,
// act, some GHES): a warning naming the local path, never a failure.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { readFile, writeFile } from 'node:fs/promises';
import { artifactsAvailable, uploadFiles } from '../action/artifact.js';
import { scoped } from '../action/scope.js';
import { scrubSecrets } from '../action/secrets.js';
import { errorMessage } from '../action/stage.js';
import { stepLabel } from '../serve/docker-run.js';

export function logArtifactName(env: NodeJS.ProcessEnv): string {
  return scoped(`smoke-test-logs-${stepLabel(env)}`);
}

export async function uploadLogs(files: string[]): Promise<boolean> {
  if (!artifactsAvailable()) {
    core.warning(`The artifact service is not available to this job; the server log was not uploaded (it is at ${files[0]}).`);
    return false;
  }
  const name = logArtifactName(process.env);
  try {
    await uploadFiles(name, files);
    logInfo(`Uploaded the server log as artifact '${name}'.`);
    return true;
  } catch (error) {
    core.warning(`The server log could not be uploaded (${errorMessage(error)}); it is at ${files[0]}.`);
    return false;
  }
}

/** Replaces every registered secret in the file (a server log, the report) before it is uploaded. */
export async function scrubFile(path: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const scrubbed = scrubSecrets(text);
  if (scrubbed !== text) await writeFile(path, scrubbed);
}
