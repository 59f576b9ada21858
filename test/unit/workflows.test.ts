// The workflows (the suite's CI and the two examples users copy) and the workflow examples in the
// docs say only what the actions accept: pinned third-party actions, real inputs and outputs of
// this suite's stages, least privilege, no self-hosted runner for a fork's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/action-runner.js';

interface Step { id?: string; uses?: string; run?: string; with?: Record<string, string> }
interface Job { uses?: string; 'runs-on'?: unknown; if?: string; needs?: string | string[]; permissions?: Record<string, string>; outputs?: Record<string, string>; steps?: Step[] }
interface Workflow { on: unknown; permissions?: Record<string, string>; jobs: Record<string, Job> }
interface Action { inputs?: Record<string, { required?: boolean }>; outputs?: Record<string, unknown> }

const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = new Map(files.map((f) => [f, readFileSync(join(WORKFLOWS, f), 'utf8')]));
const workflows = new Map(files.map((f) => [f, parse(text.get(f)!) as Workflow]));

/** This suite's action for a `uses:` (local ./ path or <owner>/vllm-rocm-action/…@ref), else undefined. */
function suiteAction(uses: string): { name: string; action: Action } | undefined {
  const local = /^\.\/(?:actions\/([\w-]+))?\/?$/.exec(uses);
  const remote = /^[^/]+\/vllm-rocm-action(?:\/actions\/([\w-]+))?@\S+$/.exec(uses);
  const m = local ?? remote;
  if (!m) return undefined;
  const file = m[1] ? join(REPO_ROOT, 'actions', m[1], 'action.yml') : join(REPO_ROOT, 'action.yml');
  return { name: m[1] ?? 'action.yml', action: parse(readFileSync(file, 'utf8')) as Action };
}

/** Inputs a step passes that the action does not declare, and required ones it leaves out. */
function inputProblems(where: string, steps: Step[]): string[] {
  const problems: string[] = [];
  for (const step of steps) {
    const target = step.uses ? suiteAction(step.uses) : undefined;
    if (!target) continue;
    const declared = target.action.inputs ?? {};
    for (const name of Object.keys(step.with ?? {})) if (!(name in declared)) problems.push(`${where}: ${target.name} has no input '${name}'`);
    for (const [name, spec] of Object.entries(declared)) if (spec.required && !(name in (step.with ?? {}))) problems.push(`${where}: ${target.name} needs '${name}'`);
  }
  return problems;
}

/** `steps.<id>.outputs.<name>` references to a suite step whose action has no such output. */
function outputProblems(where: string, source: string, steps: Step[]): string[] {
  const byId = new Map(steps.filter((s) => s.id && s.uses).map((s) => [s.id!, s.uses!]));
  const problems: string[] = [];
  for (const m of source.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
    const uses = byId.get(m[1]!);
    const target = uses ? suiteAction(uses) : undefined;
    if (target && !(m[2]! in (target.action.outputs ?? {}))) problems.push(`${where}: ${target.name} has no output '${m[2]}'`);
  }
  return problems;
}

test('every third-party action is pinned by a full commit SHA with its version in a comment', () => {
  let pinned = 0;
  for (const [file, source] of text) {
    for (const m of source.matchAll(/^\s*-?\s*uses:\s*(\S+)(.*)$/gm)) {
      const [ref, rest] = [m[1]!, m[2]!];
      if (ref.startsWith('./')) continue;
      assert.match(ref, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${file}: ${ref}`);
      assert.match(rest, /^ # v\d+(\.\d+)*$/, `${file}: ${ref} has no '# vX.Y.Z' comment`);
      pinned++;
    }
  }
  assert.ok(pinned >= 6, `${pinned} pinned uses`);
});

test('every input passed to a stage of this suite exists, and every required one is passed (workflows and docs)', () => {
  const problems: string[] = [];
  for (const [file, wf] of workflows) {
    for (const [name, job] of Object.entries(wf.jobs)) {
      problems.push(...inputProblems(`${file} ${name}`, job.steps ?? []), ...outputProblems(`${file} ${name}`, text.get(file)!, job.steps ?? []));
    }
  }
  // The docs' YAML examples, where a block is a job's steps or a whole workflow.
  for (const doc of ['README.md', join('docs', 'workflows.md')]) {
    const markdown = readFileSync(join(REPO_ROOT, doc), 'utf8');
    for (const [i, block] of [...markdown.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].entries()) {
      let parsed: unknown;
      try {
        parsed = parse(block[1]!);
      } catch {
        continue; // a fragment that is not a YAML document on its own
      }
      const steps: Step[] = Array.isArray(parsed) ? (parsed as Step[]) : Object.values((parsed as Partial<Workflow>)?.jobs ?? {}).flatMap((j) => j.steps ?? []);
      problems.push(...inputProblems(`${doc} block ${i + 1}`, steps), ...outputProblems(`${doc} block ${i + 1}`, block[1]!, steps));
    }
  }
  assert.deepEqual(problems, []);
});

test('a planted unknown input or output is caught', () => {
  const steps: Step[] = [{ id: 'b', uses: './actions/build-docker', with: { contxt: '.' } }, { uses: 'acme/vllm-rocm-action/actions/publish@0123456789abcdef0123456789abcdef01234567', with: { image: 'x' } }];
  assert.deepEqual(inputProblems('w', steps), ["w: build-docker has no input 'contxt'", "w: publish needs 'source'"]);
  assert.deepEqual(outputProblems('w', '${{ steps.b.outputs.archive }}', steps), ["w: build-docker has no output 'archive'"]);
});

test('permissions: read-only at the top of every workflow; any write is granted to the one job that needs it', () => {
  for (const [file, wf] of workflows) {
    assert.ok(wf.permissions, `${file} sets top-level permissions`);
    for (const [scope, level] of Object.entries(wf.permissions)) assert.equal(level, 'read', `${file}: top-level ${scope}: ${level}`);
  }
  const release = workflows.get('release.yml')!;
  assert.deepEqual(release.jobs.build!.permissions, { contents: 'read', packages: 'write' });
  assert.deepEqual(release.jobs['smoke-test']!.permissions, { contents: 'read', packages: 'read' });
  assert.deepEqual(release.jobs.publish!.permissions, { contents: 'read', packages: 'write', 'id-token': 'write' });
});

test('pull requests: a fork\'s code never reaches a self-hosted runner', () => {
  for (const [file, wf] of workflows) {
    const triggers = typeof wf.on === 'string' ? [wf.on] : Object.keys(wf.on as object);
    assert.ok(!triggers.includes('pull_request_target'), `${file}: pull_request_target runs a fork's code with this repository's secrets`);
    if (!triggers.includes('pull_request')) continue;
    for (const [name, job] of Object.entries(wf.jobs)) {
      const runsOn = JSON.stringify(job['runs-on']);
      if (!runsOn.includes('self-hosted')) continue;
      // Either the label expression or the job's condition requires a same-repository head.
      const guard = `${runsOn} ${job.if ?? ''}`;
      assert.match(guard, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/, `${file} ${name}`);
      // Nor a bot's update (same repository, upstream code nobody here reviewed): Dependabot by
      // name, and any app account by type.
      assert.match(guard, /github\.actor != 'dependabot\[bot\]'/, `${file} ${name}: Dependabot's pull requests`);
      assert.match(guard, /github\.event\.pull_request\.user\.type != 'Bot'/, `${file} ${name}: bots' pull requests`);
      // Each condition is one of the &&-joined terms that pick the self-hosted labels.
      const terms = /\$\{\{\s*\((.*?)\)\s*&&\s*fromJSON\('\[\\?"self-hosted/.exec(guard)?.[1]?.split('&&').map((t) => t.trim()) ?? [];
      for (const term of ["github.actor != 'dependabot[bot]'", "github.event.pull_request.user.type != 'Bot'", 'github.event.pull_request.head.repo.full_name == github.repository']) {
        assert.ok(terms.includes(term), `${file} ${name}: '${term}' is not a term of the self-hosted condition (${terms.join(' | ')})`);
      }
    }
  }
});

test('release: build on a hosted runner → smoke test of that digest on the ROCm runner → promote and sign the same digest', () => {
  const { jobs } = workflows.get('release.yml')!;
  assert.equal(jobs.build!['runs-on'], 'ubuntu-24.04');
  assert.equal(jobs.build!.outputs!.digest, '${{ steps.stage.outputs.digest }}');
  assert.equal(jobs.build!.outputs!.image, '${{ steps.image.outputs.name }}');
  assert.deepEqual(jobs['smoke-test']!['runs-on'], ['self-hosted', 'rocm', 'gfx1151']);
  assert.equal(jobs['smoke-test']!.needs, 'build');
  const smoke = jobs['smoke-test']!.steps!.find((s) => s.uses?.endsWith('smoke-test'))!;
  assert.equal(smoke.with!.image, '${{ needs.build.outputs.image }}@${{ needs.build.outputs.digest }}');
  assert.deepEqual(jobs.publish!.needs, ['build', 'smoke-test']);
  const publish = jobs.publish!.steps!.find((s) => s.uses?.endsWith('publish'))!;
  assert.equal(publish.with!.source, 'docker://${{ needs.build.outputs.image }}@${{ needs.build.outputs.digest }}');
  assert.equal(publish.with!.image, '${{ needs.build.outputs.image }}');
  assert.equal(publish.with!.sign, 'cosign-keyless');
});

test('release: the image name is lower-cased once, from env in a shell step, and every job uses that name', () => {
  const source = text.get('release.yml')!;
  const { jobs } = workflows.get('release.yml')!;
  const step = jobs.build!.steps!.find((s) => s.id === 'image')!;
  assert.ok(step?.run, 'the build job has a step with id image');
  assert.doesNotMatch(step.run, /\$\{\{/, 'no expression inside run:');
  // Run the step as the runner would (bash, GITHUB_OUTPUT), with an owner that has capitals.
  const dir = mkdtempSync(join(tmpdir(), 'release-image-'));
  const output = join(dir, 'output');
  writeFileSync(output, '');
  const ran = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], { encoding: 'utf8', env: { PATH: process.env.PATH, IMAGE: 'ghcr.io/Example-Org/VLLM-Rocm-Action', GITHUB_OUTPUT: output } });
  assert.equal(ran.status, 0, ran.stderr);
  assert.equal(readFileSync(output, 'utf8'), 'name=ghcr.io/example-org/vllm-rocm-action\n');
  // After that step, nothing reads the unlowered name: every image and reference is the output's.
  const uses = [...source.matchAll(/\$\{\{\s*env\.IMAGE\s*\}\}/g)];
  assert.deepEqual(uses, [], 'no job passes env.IMAGE on as it is');
  for (const [name, job] of Object.entries(jobs)) {
    for (const s of job.steps ?? []) {
      for (const [input, value] of Object.entries(s.with ?? {})) {
        if (input === 'image' || input === 'source') assert.doesNotMatch(String(value), /github\.repository|env\.IMAGE/, `${name}: ${input}`);
      }
    }
  }
});

test('the copy recipe in docs/workflows.md turns both examples into valid workflows that pin this suite', () => {
  const recipe = /^sed -i '(.*)' \.github\/workflows\/release\.yml$/m.exec(readFileSync(join(REPO_ROOT, 'docs', 'workflows.md'), 'utf8'));
  assert.ok(recipe, 'docs/workflows.md has the sed line');
  const expression = recipe[1]!;
  const root = mkdtempSync(join(tmpdir(), 'workflow-copy-'));
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
  copyFileSync(join(REPO_ROOT, '.github', 'actionlint.yaml'), join(root, '.github', 'actionlint.yaml'));
  for (const file of ['release.yml', 'pr-reproducibility.yml']) {
    const copy = join(root, '.github', 'workflows', file);
    copyFileSync(join(WORKFLOWS, file), copy);
    const sed = spawnSync('sed', ['-i', expression, copy], { encoding: 'utf8' });
    assert.equal(sed.status, 0, sed.stderr);
    const copied = readFileSync(copy, 'utf8');
    assert.doesNotMatch(copied, /^\s*-?\s*uses: \.\//m, `${file}: no local uses: left`);
    const pinned = [...copied.matchAll(/uses: <owner>\/vllm-rocm-action\/actions\/([\w-]+)@<sha> # v1$/gm)].map((m) => m[1]);
    assert.ok(pinned.length >= 2, `${file}: ${pinned.join()}`);
    // With a real owner and commit in place of the placeholders, the copy is a valid workflow.
    writeFileSync(copy, copied.replaceAll('<owner>', 'acme').replaceAll('<sha>', '0123456789abcdef0123456789abcdef01234567'));
  }
  const check = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'validate-actions.mjs'), '--root', root], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test("release-action.yml: the tagged commit passes the whole CI before any tag moves; the release notes are the changelog's section", () => {
  const release = workflows.get('release-action.yml')!;
  assert.deepEqual(release.on, { push: { tags: ['v*.*.*'] } });
  assert.deepEqual(release.permissions, { contents: 'read' });
  assert.equal(release.jobs.ci!.uses, './.github/workflows/ci.yml');
  assert.ok(Object.keys((workflows.get('ci.yml')!.on as Record<string, unknown>)).includes('workflow_call'), 'ci.yml can be called');
  const tags = release.jobs.tags!;
  assert.equal(tags.needs, 'ci');
  assert.deepEqual(tags.permissions, { contents: 'write' }, 'only the tag job may write, and only contents');
  const steps = tags.steps!;
  assert.match(steps.find((s) => s.run?.includes('move-major-tags.sh'))!.run!, /bash scripts\/move-major-tags\.sh "\$TAG"/);

  // The notes step, run as written against a changelog, with a gh that records what it was asked.
  const notes = steps.find((s) => s.run?.includes('gh release create'))!.run!;
  const dir = mkdtempSync(join(tmpdir(), 'release-notes-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'gh'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/gh-args"\ncp "$RUNNER_TEMP/notes.md" "${dir}/notes-seen"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'CHANGELOG.md'), '# Changelog\n\n## [Unreleased]\n- next\n\n## [1.2.0] - 2026-12-01\n### Added\n- a thing\n\n## [1.1.0]\n- older\n');
  const run = (tag: string) => spawnSync('bash', ['-e', '-c', notes], { cwd: dir, encoding: 'utf8', env: { ...process.env, TAG: tag, RUNNER_TEMP: dir, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } });
  let r = run('v1.2.0');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'notes-seen'), 'utf8'), '### Added\n- a thing\n\n');
  assert.deepEqual(readFileSync(join(dir, 'gh-args'), 'utf8').trim().split('\n'), ['release', 'create', 'v1.2.0', '--verify-tag', '--title', 'v1.2.0', '--notes-file', join(dir, 'notes.md')]);
  r = run('v1.3.0');
  assert.equal(r.status, 1, 'no section for the version: the release stops');
  assert.match(r.stdout, /::error::CHANGELOG\.md has no section '## \[1\.3\.0\]'/);
});
