// verify-reproducibility inputs. The build inputs are the build stages' own parsers, not copies.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { boolean, InputError, oneOf, optionalString, type InputSource } from '../action/inputs.js';
import { parseBuildDockerInputs, type BuildDockerInputs } from '../build-docker/inputs.js';
import { parseBuildNixInputs, type BuildNixInputs } from '../build-nix/inputs.js';

export const MODES = ['rebuild', 'compare', 'artifact'] as const;
export const BUILDERS = ['docker', 'nix'] as const;

export type VerifyInputs = {
  mode: (typeof MODES)[number];
  failOnDifference: boolean;
  reportName: string;
  archiveA?: string;
  archiveB?: string;
  artifactName?: string;
  /** One name (compare this job's image with it) or two (compare those two descriptions). */
  compareWith?: string[];
} & ({ builder: 'docker'; docker: BuildDockerInputs } | { builder: 'nix'; nix: BuildNixInputs });

const ARTIFACT_NAME = /^[^"<>|*?\r\n\\/:]+$/;

/** In this action `builder` picks docker or nix; the buildx builder is `buildx-builder`. */
export function buildxBuilderRenamed(get: InputSource): InputSource {
  return (name) => get(name === 'builder' ? 'buildx-builder' : name);
}

export function parseVerifyInputs(get: InputSource, workspace: string): VerifyInputs {
  const mode = oneOf(get, 'mode', MODES, 'rebuild');
  const builder = oneOf(get, 'builder', BUILDERS, 'docker');
  const archive = (name: string): string | undefined => {
    const value = optionalString(get, name);
    if (value === undefined) return undefined;
    const path = resolve(workspace, value);
    if (!existsSync(path)) throw new InputError(name, `${path} does not exist (an OCI archive, OCI layout directory or docker-archive)`);
    return path;
  };
  const archiveA = archive('archive-a');
  const archiveB = archive('archive-b');
  if (mode === 'compare' && (!archiveA || !archiveB)) {
    throw new InputError(archiveA ? 'archive-b' : 'archive-a', "must be set in mode 'compare' (the two images to compare)");
  }
  const artifactName = optionalString(get, 'artifact-name');
  const compareList = (optionalString(get, 'compare-with') ?? '').split(/[\n,]/).map((n) => n.trim()).filter((n) => n !== '');
  const compareWith = compareList.length > 0 ? compareList : undefined;
  for (const [name, value] of [['artifact-name', artifactName], ...compareList.map((n) => ['compare-with', n] as const)] as const) {
    if (value !== undefined && !ARTIFACT_NAME.test(value)) throw new InputError(name, `'${value}' is not a valid artifact name (no " < > | * ? \\ / : or newlines)`);
  }
  if (compareList.length > 2) throw new InputError('compare-with', `names ${compareList.length} artifacts; give one (compared with this job's image) or two (compared with each other)`);
  if (compareList.length === 2 && (artifactName || archiveA)) {
    throw new InputError('compare-with', `names two descriptions to compare with each other, so this job has no image of its own: leave ${artifactName ? 'artifact-name' : 'archive-a'} empty`);
  }
  if (mode === 'artifact' && !artifactName && !compareWith) {
    throw new InputError('artifact-name', "or compare-with must be set in mode 'artifact' (upload this job's image description, compare against another's, or both)");
  }
  const reportName = optionalString(get, 'report-name') ?? 'reproducibility-report';
  if (!ARTIFACT_NAME.test(reportName)) throw new InputError('report-name', `'${reportName}' is not a valid artifact name`);
  const common = { mode, failOnDifference: boolean(get, 'fail-on-difference', true), reportName, archiveA, archiveB, artifactName, compareWith };
  const buildGet = buildxBuilderRenamed(get);
  return builder === 'docker'
    ? { ...common, builder, docker: { ...parseBuildDockerInputs(buildGet, workspace), output: 'oci' } }
    : { ...common, builder, nix: parseBuildNixInputs(buildGet, workspace) };
}
