// Artifacts through @actions/artifact: upload a few files, fetch one by name from this run.
import { DefaultArtifactClient } from '@actions/artifact';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function uploadFiles(name: string, files: string[]): Promise<number | undefined> {
  const client = new DefaultArtifactClient();
  // Same-named artifacts are refused by the service; a rerun of the job replaces its own.
  const existing = await client.getArtifact(name).catch(() => undefined);
  if (existing) await client.deleteArtifact(name).catch(() => undefined);
  const { id } = await client.uploadArtifact(name, files, dirname(files[0]!), { retentionDays: 30 });
  return id;
}

/** Downloads the artifact `name` of this workflow run into dir; returns the file paths. */
export async function downloadArtifact(name: string, dir: string): Promise<string> {
  const client = new DefaultArtifactClient();
  const { artifact } = await client.getArtifact(name);
  await mkdir(dir, { recursive: true });
  const { downloadPath } = await client.downloadArtifact(artifact.id, { path: dir });
  return downloadPath ?? dir;
}

