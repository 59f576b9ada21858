// The root action.yml and the stages' action.yml files must not drift apart: every stage input is
// in the root under its name (src/pipeline/inputs.ts renames only the documented few), with the
// stage's default and description, and the root has nothing else but the pipeline's own inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InputError } from '../../src/action/inputs.js';
import { asRootInputError, dockerBuildOutput, OWN_INPUTS, parsePipelineInputs, publishFixedInputs, RENAMED, stageInputs } from '../../src/pipeline/inputs.js';
import { REPO_ROOT } from '../support/action-runner.js';
import { actionInputsOf, expectedRootInputs } from '../support/root-action.js';

const root = actionInputsOf(join(REPO_ROOT, 'action.yml'));
const { inputs: expected, problems } = expectedRootInputs();

test('the stages agree among themselves where the root merges them', () => {
  assert.deepEqual(problems, []);
});

test("every stage input is in the root action under its name, with the stage's default and description", () => {
  const drift: string[] = [];
  for (const [name, spec] of expected) {
    const got = root[name];
    if (!got) drift.push(`missing: ${name}`);
    else {
      if (got.default !== spec.default) drift.push(`${name}: default ${JSON.stringify(got.default)}, the stage has ${JSON.stringify(spec.default)}`);
      if (got.description !== spec.description) drift.push(`${name}: description differs from the stage's:\n  root:  ${got.description}\n  stage: ${spec.description}`);
      if (got.required) drift.push(`${name}: required in the root (each stage is optional there)`);
    }
  }
  assert.deepEqual(drift, [], 'node lib/test/support/root-action.js prints the expected inputs');
});

test("the root action has only the stages' inputs and the pipeline's own", () => {
  const extra = Object.keys(root).filter((name) => !expected.has(name) && !(OWN_INPUTS as readonly string[]).includes(name));
  assert.deepEqual(extra, []);
  for (const own of OWN_INPUTS) assert.ok(root[own], `the root action lacks its own input ${own}`);
});

test('only the documented renames: buildx-builder, build-tags, smoke-env, publish-annotations', () => {
  assert.deepEqual(RENAMED, {
    'build-docker': { builder: 'buildx-builder', tags: 'build-tags' },
    'verify-reproducibility': { tags: 'build-tags' },
    'smoke-test': { env: 'smoke-env' },
    publish: { annotations: 'publish-annotations' },
  });
});

test("a stage reads the root's inputs under its own names; what the pipeline sets wins", () => {
  const values: Record<string, string> = { env: 'stage-env', 'smoke-env': 'A=1', image: 'ghcr.io/acme/vllm', tags: 'v1', 'build-tags': 'local/x:1', builder: 'both', 'buildx-builder': 'bk' };
  const get = (name: string): string => values[name] ?? '';
  const smoke = stageInputs(get, 'smoke-test', { image: '/tmp/image.tar' });
  assert.equal(smoke('env'), 'A=1');
  assert.equal(smoke('image'), '/tmp/image.tar');
  assert.equal(stageInputs(get, 'smoke-test')('command'), '', 'set by the pipeline, never read from the root');
  const docker = stageInputs(get, 'build-docker');
  assert.equal(docker('builder'), 'bk');
  assert.equal(docker('tags'), 'local/x:1');
  const publish = stageInputs(get, 'publish');
  assert.equal(publish('image'), 'ghcr.io/acme/vllm');
  assert.equal(publish('tags'), 'v1');
});

test("a stage's input error names the input as the root action calls it", () => {
  const error = asRootInputError('smoke-test', new InputError('env', "'1A' is not a variable name"));
  assert.equal(error.message, "Input 'smoke-env': '1A' is not a variable name");
  assert.equal(error.input, 'smoke-env');
  const same = new InputError('gpu', 'must be one of amd, none');
  assert.equal(asRootInputError('smoke-test', same), same);
});

test('pipeline inputs: defaults, and clear errors naming the input', () => {
  assert.deepEqual(parsePipelineInputs(() => ''), { builder: 'docker', verify: false, smokeTest: false, publish: false, publishFrom: 'nix' });
  const bad = (values: Record<string, string>): InputError => {
    try {
      parsePipelineInputs((name) => values[name] ?? '');
    } catch (error) {
      assert.ok(error instanceof InputError);
      return error;
    }
    assert.fail('no error');
  };
  assert.equal(bad({ builder: 'bazel' }).message, "Input 'builder': must be one of docker, nix, both, auto (got 'bazel')");
  assert.equal(bad({ 'publish-from': 'both' }).message, "Input 'publish-from': must be one of nix, docker (got 'both')");
  assert.equal(bad({ output: 'docker', publish: 'true' }).message, "Input 'output': must be oci or oci-layout when publish is on (it reads the image archive or layout; got 'docker')");
  assert.doesNotThrow(() => parsePipelineInputs((name) => ({ output: 'oci-layout', publish: 'true' })[name] ?? ''));
});

test('the docker build writes an OCI layout wherever a later stage reads it; otherwise what output says', () => {
  const build = (values: Record<string, string>) => {
    const get = (name: string): string => values[name] ?? '';
    return stageInputs(get, 'build-docker', dockerBuildOutput(parsePipelineInputs(get), get))('output');
  };
  assert.equal(build({ verify: 'true', output: 'oci' }), 'oci-layout');
  assert.equal(build({ 'smoke-test': 'true' }), 'oci-layout');
  assert.equal(build({ publish: 'true', output: 'oci-layout' }), 'oci-layout');
  // Nothing reads it after the build: the archive the user asked for (or the default).
  assert.equal(build({ output: 'oci' }), 'oci');
  assert.equal(build({ output: 'docker' }), 'docker');
});

test("publish gets verify's and smoke-test's reports wherever it signs or attests, with evidence on", () => {
  const root = (values: Record<string, string>) => (name: string) => values[name] ?? '';
  const reports = { verify: '/t/reproducibility-report.json', smokeTest: '/t/smoke-test-report.json' };
  const withReports = { source: '/t/image.tar', 'reproducibility-report': reports.verify, 'smoke-test-report': reports.smokeTest };
  assert.deepEqual(publishFixedInputs(root({ sign: 'cosign-key' }), '/t/image.tar', reports), withReports);
  assert.deepEqual(publishFixedInputs(root({ attest: 'true' }), '/t/image.tar', reports), withReports);
  assert.deepEqual(publishFixedInputs(root({ sign: 'cosign-key', evidence: 'false' }), '/t/image.tar', reports), { source: '/t/image.tar' });
  assert.deepEqual(publishFixedInputs(root({}), '/t/image.tar', reports), { source: '/t/image.tar' });
  // A stage that did not run leaves its report empty: publish then attests the SBOM only.
  assert.deepEqual(publishFixedInputs(root({ sign: 'cosign-keyless' }), '/t/image.tar', {}), { source: '/t/image.tar', 'reproducibility-report': '', 'smoke-test-report': '' });
  // What the pipeline sets wins over the root's inputs of the same name (they are not root inputs).
  const get = stageInputs(root({ sign: 'cosign-key', 'smoke-test-report': '/elsewhere.json' }), 'publish', publishFixedInputs(root({ sign: 'cosign-key' }), '/t/image.tar', {}));
  assert.equal(get('smoke-test-report'), '');
});
