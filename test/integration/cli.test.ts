// The command line as a user runs it (`node dist/cli/index.js <stage> --input value …`), on the
// real dockerd, Nix and the registry on 127.0.0.1:5000: each stage, the pipeline, --help and
// the argument errors, and the local directories standing in for the Actions services.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeyValueFile } from '../../src/runner/file-commands.js';
import { node24, readActionMetadata, REPO_ROOT } from '../support/action-runner.js';
import { startActionsServices } from '../support/actions-services.js';
import { fakeVllmImage, freePort } from '../support/fake-vllm.js';
import { fixture } from '../support/fixtures.js';
import { nixFlakeFixture } from '../support/nix.js';
import { REGISTRY, requireRegistry, requireTools, sh } from '../support/tools.js';
import { BUSYBOX } from '../support/workspace.js';
import { stepLabel } from '../../src/serve/docker-run.js';

const CLI = join(REPO_ROOT, 'dist', 'cli', 'index.js');
const root = mkdtempSync(join(tmpdir(), 'h-cli-'));
const cacheHome = join(root, 'xdg-cache');
const local = join(cacheHome, 'vllm-rocm-action');
const NO_SERVICES = /^note: no Actions cache or artifact service here/gm;
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;
let runs = 0;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed from stdout (not for --help, whose text is on stdout). */
  outputs: Record<string, string>;
  /** This run's TMPDIR (where RUNNER_TEMP is made). */
  tmp: string;
}

/** `node dist/cli/index.js …` with this machine's environment, a private TMPDIR and XDG_CACHE_HOME. */
function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const tmp = join(root, `tmp-${++runs}`);
  mkdirSync(tmp);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(ACTIONS_|GITHUB_|RUNNER_)/.test(k)) env[k] = v;
  Object.assign(env, { TMPDIR: tmp, XDG_CACHE_HOME: cacheHome }, opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(node24(), [CLI, ...args], { cwd: opts.cwd ?? root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      resolve({ code: code ?? -1, stdout, stderr: Buffer.concat(err).toString('utf8'), outputs: code === 0 && !args.includes('--help') ? parseKeyValueFile(stdout) : {}, tmp });
    });
  });
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}:\n${run.stderr.slice(-4000)}`);
  assert.equal(run.stderr.match(NO_SERVICES)?.length, 1, 'the missing services are told once');
  assert.doesNotMatch(run.stderr, /service is not available/);
  assert.doesNotMatch(run.stderr, STACK_FRAME);
  assert.doesNotMatch(run.stderr, /^::/m, 'no raw workflow command');
  return run;
}

function dockerWorkspace(name: string): string {
  const ws = mkdtempSync(join(root, `ws-${name}-`));
  cpSync(fixture('docker', name), ws, { recursive: true });
  cpSync(BUSYBOX, join(ws, 'busybox'));
  return ws;
}

before(async () => {
  requireTools('docker', 'nix', 'gcc');
  await requireRegistry();
});

describe('arguments and help', () => {
  test('--help lists every stage and the pipeline with each input of its action.yml, on stdout', async () => {
    const run = await cli(['--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const stages = readdirSync(join(REPO_ROOT, 'actions'));
    assert.ok(stages.length >= 6);
    for (const stage of [...stages, 'pipeline']) {
      const section = run.stdout.split(/\n(?=\S+: )/).find((s) => s.startsWith(`${stage}: `));
      assert.ok(section, `a section for ${stage}`);
      const meta = readActionMetadata(stage === 'pipeline' ? '.' : stage);
      for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
        assert.match(section, new RegExp(`^  --${name}\\b.*${spec.default && !spec.default.includes('${{') ? `default: ${spec.default.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` : ''}`, 'm'));
      }
    }
  });

  test('<stage> --help: its inputs (required marked) and outputs', async () => {
    const run = await cli(['publish', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^ {2}--source {2}\(required\)\n {6}The image: /m);
    assert.match(run.stdout, /^Outputs:\n {2}digest\n/m);
  });

  test('a missing required input: exit 2 naming it, nothing run', async () => {
    const run = await cli(['publish', '--image', `${REGISTRY}/h-cli/never`]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^error: publish: missing required input --source \(The image: /m);
    assert.doesNotMatch(run.stderr, NO_SERVICES);
    assert.doesNotMatch(run.stderr, STACK_FRAME);
  });

  test('an unknown input: exit 2 naming it and the closest valid name; an unknown stage likewise', async () => {
    const run = await cli(['build-docker', '--cache-rf', 'x']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^error: build-docker has no input --cache-rf \(did you mean --cache-ref\?\)/m);
    const stage = await cli(['biuld-docker']);
    assert.equal(stage.code, 2);
    assert.match(stage.stderr, /no stage 'biuld-docker' \(did you mean build-docker\?\)/);
  });
});

describe('stages, with local directories for the Actions services', () => {
  const archives: string[] = [];

  test('build-docker (cache: gha stood in for locally): outputs as name=value, the summary as text, repeated inputs joined', async () => {
    const ws = dockerWorkspace('reproducible');
    const first = ok(await cli(['build-docker', '--build-args', 'GFX_ARCH=gfx942', '--build-args=UNUSED=1'], { cwd: ws }));
    assert.match(first.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(first.outputs['cached-steps']?.split('/')[1], '4');
    assert.ok(existsSync(first.outputs['image-archive']!), 'the archive an output names is kept');
    assert.match(first.stderr, /^note: outputs point into /m);
    // Both build args reached buildx: the second as a multi-line input's second line.
    assert.match(first.stderr, /^warning: build-args: UNUSED is consumed by no ARG/m);
    assert.match(first.stderr, /^Docker image built\n-{18}\n {2}Dockerfile +`/m);
    assert.match(first.stderr, /^ {2}Cache +local: \d\/4 steps cached$/m);
    const saved = /^Saved BuildKit cache (\S+)$/m.exec(first.stderr)?.[1];
    assert.ok(saved, first.stderr.slice(-2000));
    assert.ok(existsSync(join(local, 'cache', encodeURIComponent(saved))), 'the cache entry is under XDG_CACHE_HOME');
    // stdout holds the outputs only; metadata is one JSON line.
    // The command line prints only outputs with a value: `image-layout` is empty when the output is an archive.
    const declared = Object.keys(readActionMetadata('build-docker').outputs!).filter((name) => name !== 'image-layout');
    assert.deepEqual(Object.keys(first.outputs).sort(), declared.sort());
    JSON.parse(first.outputs.metadata!);

    const second = ok(await cli(['build-docker', '--workspace', ws, '--build-args', 'GFX_ARCH=gfx942', '--build-args=UNUSED=1']));
    assert.match(second.stderr, new RegExp(`^Restored BuildKit cache ${saved}$`, 'm'));
    assert.equal(second.outputs.digest, first.outputs.digest);
    archives.push(first.outputs['image-archive']!, second.outputs['image-archive']!);
  });

  test('a failing build: exit 1 with the stage\'s error last, never a stack trace', async () => {
    const run = await cli(['build-docker', '--cache', 'none'], { cwd: dockerWorkspace('failing') });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr.trimEnd().split('\n').pop()!, /^error: build-docker failed: docker buildx build failed at step /);
    assert.doesNotMatch(run.stderr, STACK_FRAME);
    assert.deepEqual(readdirSync(run.tmp), [], 'RUNNER_TEMP is removed when no output points into it');
  });

  test('verify-reproducibility: two archives compared, and an image description kept and compared across runs', async () => {
    const compare = ok(await cli(['verify-reproducibility', '--mode', 'compare', '--archive-a', archives[0]!, '--archive-b', archives[1]!]));
    assert.equal(compare.outputs.reproducible, 'true');
    assert.equal(compare.outputs['digest-a'], compare.outputs['digest-b']);
    assert.match(compare.stderr, /^Artifact 'reproducibility-report' kept at .*\/xdg-cache\/vllm-rocm-action\/artifacts\/reproducibility-report$/m);
    assert.match(compare.stderr, /^Reproducibility: ✅ reproducible\n={32}\n/m);

    const name = `h-cli-description-${process.pid}`;
    ok(await cli(['verify-reproducibility', '--mode', 'artifact', '--archive-a', archives[0]!, '--artifact-name', name]));
    assert.ok(existsSync(join(local, 'artifacts', name, 'image-description.json')));
    const against = ok(await cli(['verify-reproducibility', '--mode', 'artifact', '--archive-a', archives[1]!, '--compare-with', name]));
    assert.equal(against.outputs.reproducible, 'true');
  });

  test('publish to 127.0.0.1:5000: refs (multi-line) read back from the registry; the password masked', async () => {
    const repo = `h-cli/cli-${process.pid}-${Date.now()}`;
    const password = 'hcli-Pa55word-never-shown';
    const run = ok(await cli(['publish', '--source', archives[0]!, '--image', `${REGISTRY}/${repo}`, '--tags', 'one', '--tags', 'two', '--username', 'u', '--password', password]));
    assert.ok(!run.stderr.includes(password) && !run.stdout.includes(password));
    assert.match(run.stdout, /^refs<<EOF\n.*:one@sha256:.*\n.*:two@sha256:.*\nEOF$/m);
    assert.deepEqual(run.outputs.refs!.split('\n'), ['one', 'two'].map((t) => `${REGISTRY}/${repo}:${t}@${run.outputs.digest}`));
    const tags = (await (await fetch(`http://${REGISTRY}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['one', 'two']);
  });

  test('smoke-test gpu: none on the fake vLLM image; post removes its container', async () => {
    const image = fakeVllmImage();
    const runId = `h-cli-${process.pid}`;
    const run = ok(await cli(['smoke-test', '--image', image, '--gpu', 'none', '--port', String(await freePort())], { env: { GITHUB_RUN_ID: runId } }));
    assert.equal(run.outputs.passed, 'true');
    assert.ok(Number(run.outputs['ttft-ms']) > 0);
    const labels = sh('docker', ['ps', '--all', '--filter', 'label=vllm-rocm-action.step', '--format', '{{.Label "vllm-rocm-action.step"}}']).split('\n');
    assert.deepEqual(labels.filter((l) => l.startsWith(`${runId}.`)), [], 'no container of this run outlives its post phase');
  });

  test('smoke-test inside an Actions step: each command-line run has its own container label, so its post leaves the step\'s other containers alone', async () => {
    const image = fakeVllmImage();
    // The step's own identity, shared by every command line run inside it.
    const step = { GITHUB_RUN_ID: `h-cli-step-${process.pid}`, GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'smoke', GITHUB_ACTION: '__run_2', RUNNER_NAME: 'runner-1' };
    const shared = stepLabel(step);
    // Another run in the same step (or the step itself) has a container under the step's label.
    const other = sh('docker', ['run', '--detach', '--label', `vllm-rocm-action.step=${shared}`, image, 'm', '--port', String(await freePort())]).trim();
    try {
      const run = ok(await cli(['smoke-test', '--image', image, '--gpu', 'none', '--requests', '0', '--port', String(await freePort())], { env: step }));
      assert.equal(run.outputs.passed, 'true');
      assert.equal(sh('docker', ['inspect', '--format', '{{.State.Running}}', other]).trim(), 'true', "the other run's container is still running");
      const labels = sh('docker', ['ps', '--all', '--filter', 'label=vllm-rocm-action.step', '--format', '{{.Label "vllm-rocm-action.step"}}']).split('\n');
      assert.deepEqual(labels.filter((l) => l.startsWith(`${step.GITHUB_RUN_ID}.`)), [shared], "only the other run's container is left");
    } finally {
      sh('docker', ['rm', '--force', other]);
    }
  });

  test('setup-nix then build-nix on the oci flake: the Nix binary cache kept locally, the token masked', async () => {
    const token = 'ghs_hCliToken00000000000000000000000000';
    const setup = ok(await cli(['setup-nix'], { env: { GITHUB_TOKEN: token } }));
    assert.match(setup.outputs['nix-version']!, /^2\.\d+\.\d+$/);
    assert.match(setup.stderr, /^note: setup-nix set NIX_USER_CONF_FILES.* for later steps/m);
    assert.ok(!setup.stderr.includes(token) && !setup.stdout.includes(token));
    assert.deepEqual(readdirSync(setup.tmp), [], 'post removed the drop-in; RUNNER_TEMP is gone');

    const flake = nixFlakeFixture('oci', mkdtempSync(join(root, 'flake-')));
    const build = ok(await cli(['build-nix'], { cwd: flake }));
    assert.match(build.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
    assert.match(build.outputs['store-path']!, /-vllm-container-oci\.tar$/);
    assert.match(build.stderr, /^Nix image built\n/m);
    assert.match(build.stderr, /^Saved Nix binary cache /m);
    assert.ok(readdirSync(join(local, 'cache')).some((n) => decodeURIComponent(n).includes('nix')), readdirSync(join(local, 'cache')).join(' '));
  });

  test('pipeline (builder: docker)', async () => {
    const run = ok(await cli(['pipeline', '--builder', 'docker', '--source-date-epoch', '0'], { cwd: dockerWorkspace('reproducible') }));
    assert.match(run.outputs.digest!, /^sha256:[0-9a-f]{64}$/);
    assert.match(run.stderr, /^Docker image built$/m);
  });
});

describe('with the Actions services', () => {
  test('nothing is said about them and nothing goes to the local directories', async (t) => {
    const services = await startActionsServices();
    t.after(() => services.stop());
    const name = `h-cli-remote-${process.pid}`;
    const archive = join(root, 'remote.tar');
    cpSync(fixture('oci-tiny.tar'), archive);
    const run = await cli(['verify-reproducibility', '--mode', 'artifact', '--archive-a', archive, '--artifact-name', name], { env: services.jobEnv() });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, NO_SERVICES);
    assert.match(run.stderr, new RegExp(`Uploaded this job's image description as artifact '${name}'`));
    assert.ok(!existsSync(join(local, 'artifacts', name)));
  });
});
