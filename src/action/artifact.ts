// Artifacts through @actions/artifact: upload a few files, fetch one by name from this run.
// Outside Actions (the command line), a local directory stands in (local-services.ts).
import { DefaultArtifactClient } from '@actions/artifact';
import { logInfo } from './log.js';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fetchLocalArtifact, keepLocalArtifact, localServicesRoot } from './local-services.js';

/** Whether uploadFiles has somewhere to put files: the artifact service, or the local stand-in. */
export function artifactsAvailable(): boolean {
  return Boolean(localServicesRoot() || (process.env.ACTIONS_RUNTIME_TOKEN && process.env.ACTIONS_RESULTS_URL));
}

/** Uploads files as artifact `name`. Names are unique within a run: another job's is never replaced. */
export async function uploadFiles(name: string, files: string[]): Promise<number | undefined> {
  const local = localServicesRoot();
  if (local) {
    logInfo(`Artifact '${name}' kept at ${await keepLocalArtifact(local, name, files)}`);
    return undefined;
  }
  const client = new DefaultArtifactClient();
  try {
    const { id } = await client.uploadArtifact(name, files, dirname(files[0]!), { retentionDays: 30 });
    return id;
  } catch (error) {
    const message = (error as Error).message;
    if (/already exists|409|conflict/i.test(message)) {
      throw new Error(`an artifact named '${name}' already exists in this workflow run: give each job its own name (e.g. include the matrix value)`, { cause: error });
    }
    throw error;
  }
}

/** Downloads the artifact `name` of this workflow run into dir; returns the directory it is in. */
export async function downloadArtifact(name: string, dir: string): Promise<string> {
  const local = localServicesRoot();
  if (local) return fetchLocalArtifact(local, name, dir);
  const client = new DefaultArtifactClient();
  const { artifact } = await client.getArtifact(name);
  await mkdir(dir, { recursive: true });
  const { downloadPath } = await client.downloadArtifact(artifact.id, { path: dir });
  return downloadPath ?? dir;
}

