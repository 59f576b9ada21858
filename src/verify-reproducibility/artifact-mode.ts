// mode: artifact — runners of a matrix cross-check each other through small image descriptions
// (digests, per-layer diff_ids, file index) instead of moving GBs of image.
import { logInfo } from '../action/log.js';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { downloadArtifact, uploadFiles } from '../action/artifact.js';
import { StageFailure } from '../action/stage.js';
import { requireNix } from '../build-nix/nix-setup.js';
import { buildOrFail, resolveInstallable } from '../build-nix/installable.js';
import { imageFile } from '../oci/image-file.js';
import { compareDescriptions, describeImage, readDescription, writeDescription, type ComparisonReport } from '../reproducibility/index.js';
import type { VerifyInputs } from './inputs.js';
import { buildDockerLayout } from './rebuild-docker.js';
import { preflight } from '../build-docker/build.js';
import { buildEngine, type BuildEngine } from '../docker/buildx.js';
import { engineName } from '../reproducibility/engine.js';

const DESCRIPTION_FILE = 'image-description.json';

export async function artifactMode(inputs: VerifyInputs, work: string): Promise<ComparisonReport | undefined> {
  if (inputs.compareWith?.length === 2) {
    // A third job judges two runners' builds: two descriptions, no image here.
    const [a, b] = inputs.compareWith as [string, string];
    const da = await fetchDescription(a, join(work, 'compare-a'));
    const db = await fetchDescription(b, join(work, 'compare-b'));
    return compareDescriptions(da.description, db.description, { bytesRead: da.bytes + db.bytes });
  }
  const built = inputs.archiveA ? { image: inputs.archiveA } : await buildOnce(inputs, work);
  // The engine is recorded only for an image built here: a given archive's engine is unknown.
  const mine = await describeImage(built.image, { engine: built.engine });
  if (inputs.artifactName) {
    const file = join(work, 'upload', DESCRIPTION_FILE);
    await mkdir(dirname(file), { recursive: true });
    await writeDescription(mine, file);
    await uploadFiles(inputs.artifactName, [file]);
    logInfo(`Uploaded this job's image description as artifact '${inputs.artifactName}'.`);
  }
  if (!inputs.compareWith) return undefined;
  const { description: theirs, bytes } = await fetchDescription(inputs.compareWith[0]!, join(work, 'compare-with'));
  // Side A is the other job's image (a description), side B this job's image, read here.
  const report = await compareDescriptions(theirs, mine, { bytesRead: bytes });
  report.b.kind = mine.kind;
  return report;
}

async function fetchDescription(artifact: string, dest: string): ReturnType<typeof readDescription> {
  let dir: string;
  try {
    dir = await downloadArtifact(artifact, dest);
  } catch (error) {
    throw new StageFailure('No description to compare with', `artifact '${artifact}' could not be fetched from this workflow run: ${(error as Error).message}`);
  }
  const names = await readdir(dir);
  const name = names.find((n) => n === DESCRIPTION_FILE) ?? names.find((n) => n.endsWith('.json'));
  if (!name) throw new StageFailure('No description to compare with', `artifact '${artifact}' holds no ${DESCRIPTION_FILE}`);
  return readDescription(join(dir, name));
}

async function buildOnce(inputs: VerifyInputs, work: string): Promise<{ image: string; engine?: BuildEngine }> {
  if (inputs.builder === 'docker') {
    const checked = await preflight(inputs.docker);
    const engine = await buildEngine(checked.buildx, checked.driver, inputs.docker.builder);
    logInfo(`Building with ${engineName(engine)}.`);
    return { image: (await buildDockerLayout(inputs.docker, work, 'image', false, checked)).layout, engine };
  }
  const nix = await requireNix();
  const installable = await resolveInstallable(nix, inputs.nix);
  const { outPath } = await buildOrFail(nix, installable, inputs.nix.extraArgs, (line) => logInfo(line));
  return { image: (await imageFile(outPath, join(work, 'image.stream.tar'))).path };
}
