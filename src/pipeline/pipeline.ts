// The whole pipeline (`uses: <owner>/vllm-rocm-action@v1`): runs the stages in one node24 step,
// because a composite action cannot reference this repository's own sub-actions by a relative
// path, and has no post step for cache saves. Stages arrive here as their issues land.
import { actionInputs, oneOf } from '../action/inputs.js';
import * as buildDocker from '../build-docker/main.js';
import * as buildDockerPost from '../build-docker/post.js';

const BUILDERS = ['docker'] as const;

export async function main(): Promise<void> {
  oneOf(actionInputs, 'builder', BUILDERS, 'docker');
  await buildDocker.main();
}

export async function post(): Promise<void> {
  await buildDockerPost.post();
}
