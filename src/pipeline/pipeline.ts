// The whole pipeline (`uses: <owner>/vllm-rocm-action@v1`): runs the stages in one node24 step,
// because a composite action cannot reference this repository's own sub-actions by a relative
// path, and has no post step for cache saves. Each stage keeps its own inputs and state names.
import * as core from '@actions/core';
import { actionInputs, oneOf } from '../action/inputs.js';
import * as buildDocker from '../build-docker/main.js';
import * as buildDockerPost from '../build-docker/post.js';
import * as buildNix from '../build-nix/main.js';
import * as buildNixPost from '../build-nix/post.js';
import * as setupNix from '../setup-nix/main.js';
import * as setupNixPost from '../setup-nix/post.js';

const BUILDERS = ['docker', 'nix'] as const;
const BUILDER_STATE = 'pipeline-builder';

export async function main(): Promise<void> {
  const builder = oneOf(actionInputs, 'builder', BUILDERS, 'docker');
  core.saveState(BUILDER_STATE, builder);
  if (builder === 'docker') {
    // Here `builder` picks the path; the buildx builder is `buildx-builder`.
    await buildDocker.main((name) => actionInputs(name === 'builder' ? 'buildx-builder' : name));
  } else {
    await core.group('setup-nix', () => setupNix.main());
    await core.group('build-nix', () => buildNix.main());
  }
}

export async function post(): Promise<void> {
  const builder = core.getState(BUILDER_STATE);
  if (builder === 'docker') await buildDockerPost.post();
  if (builder === 'nix') {
    // build-nix's cache save needs the nix settings setup-nix wrote, so it goes first; the
    // drop-in holding the token goes whatever happens to the save.
    try {
      await buildNixPost.post();
    } finally {
      await setupNixPost.post();
    }
  }
}
