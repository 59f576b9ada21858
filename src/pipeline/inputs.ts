// The root action's inputs: its own (which stages run), and each stage's under the root's name.
// Names shared between stages follow one rule: build inputs keep theirs, `image` and `tags` are
// the published image's, and the smoke test's `env` is `smoke-env`.
import { boolean, InputError, oneOf, type InputSource } from '../action/inputs.js';

export const BUILDERS = ['docker', 'nix', 'both', 'auto'] as const;
export const IMAGE_BUILDERS = ['nix', 'docker'] as const;
export type ImageBuilder = (typeof IMAGE_BUILDERS)[number];

export const STAGES = ['build-docker', 'setup-nix', 'build-nix', 'verify-reproducibility', 'smoke-test', 'publish'] as const;
export type StageName = (typeof STAGES)[number];

/** The pipeline's own inputs: which build and which later stages run. */
export const OWN_INPUTS = ['builder', 'verify', 'smoke-test', 'publish', 'publish-from'] as const;

/** A stage input's name in the root action, where it is not the stage's own name. */
export const RENAMED: Partial<Record<StageName, Record<string, string>>> = {
  'build-docker': { builder: 'buildx-builder', tags: 'build-tags' },
  'verify-reproducibility': { tags: 'build-tags' },
  'smoke-test': { env: 'smoke-env' },
  publish: { annotations: 'publish-annotations' },
};

/** Stage inputs the pipeline sets itself from what ran before (not inputs of the root action). */
export const SET_BY_PIPELINE: Partial<Record<StageName, readonly string[]>> = {
  'verify-reproducibility': ['builder', 'mode', 'archive-a', 'archive-b', 'artifact-name', 'compare-with'],
  'smoke-test': ['image', 'command'],
  publish: ['source', 'reproducibility-report', 'smoke-test-report'],
};

export interface PipelineInputs {
  builder: (typeof BUILDERS)[number];
  verify: boolean;
  smokeTest: boolean;
  publish: boolean;
  publishFrom: ImageBuilder;
}

export function parsePipelineInputs(get: InputSource): PipelineInputs {
  const inputs = {
    builder: oneOf(get, 'builder', BUILDERS, 'docker'),
    verify: boolean(get, 'verify', false),
    smokeTest: boolean(get, 'smoke-test', false),
    publish: boolean(get, 'publish', false),
    publishFrom: oneOf(get, 'publish-from', IMAGE_BUILDERS, 'nix'),
  };
  const output = get('output').trim();
  const later = laterStages(inputs);
  if (output !== '' && output !== 'oci' && output !== 'oci-layout' && later.length > 0 && inputs.builder !== 'nix') {
    throw new InputError('output', `must be oci or oci-layout when ${later.join(', ')} ${later.length > 1 ? 'are on (they read' : 'is on (it reads'} the image archive or layout; got '${output}')`);
  }
  return inputs;
}

function laterStages(inputs: Pick<PipelineInputs, 'verify' | 'smokeTest' | 'publish'>): string[] {
  return [inputs.verify && 'verify', inputs.smokeTest && 'smoke-test', inputs.publish && 'publish'].filter((s): s is string => !!s);
}

/**
 * build-docker's output where later stages read the image: an OCI layout directory, which BuildKit
 * writes without a tar stream and which verify, smoke-test and publish read in place. The root
 * output image-archive is then empty and image-layout names the directory.
 */
export function dockerBuildOutput(inputs: PipelineInputs, get: InputSource): Record<string, string> {
  const output = get('output').trim();
  return laterStages(inputs).length > 0 && (output === '' || output === 'oci') ? { output: 'oci-layout' } : {};
}

/** The root action's name of a stage input. */
export function rootInputName(stage: StageName, name: string): string {
  return RENAMED[stage]?.[name] ?? name;
}

/** A stage's input error, naming the input as the root action's user wrote it. */
export function asRootInputError(stage: StageName, error: InputError): InputError {
  const name = rootInputName(stage, error.input);
  return name === error.input ? error : new InputError(name, error.message.replace(/^Input '[^']+': /, ''));
}

/**
 * A stage's view of the root action's inputs: its own names mapped to the root's, and the values
 * the pipeline sets itself (`fixed`) in place of any root input.
 */
export function stageInputs(get: InputSource, stage: StageName, fixed: Record<string, string> = {}): InputSource {
  return (name) => fixed[name] ?? (SET_BY_PIPELINE[stage]?.includes(name) ? '' : get(rootInputName(stage, name)));
}

/**
 * publish's inputs set from what ran before: the image, and verify's and smoke-test's reports
 * wherever publish attests (signs or attests, with evidence on), so the verdicts go with the image.
 */
export function publishFixedInputs(get: InputSource, source: string, reports: { verify?: string; smokeTest?: string }): Record<string, string> {
  const sign = get('sign').trim();
  const attests = boolean(get, 'evidence', true) && ((sign !== '' && sign !== 'none') || boolean(get, 'attest', false));
  if (!attests) return { source };
  return { source, 'reproducibility-report': reports.verify ?? '', 'smoke-test-report': reports.smokeTest ?? '' };
}
