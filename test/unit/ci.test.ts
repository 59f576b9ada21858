// The CI workflow and the build scripts check what they claim to check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../support/action-runner.js';

interface Step { uses?: string; run?: string }
interface Workflow { jobs: Record<string, { container?: { image?: string }; steps: Step[] }> }

const workflow = parseYaml(readFileSync(join(REPO_ROOT, '.github', 'workflows', 'ci.yml'), 'utf8')) as Workflow;

test('ci.yml: a job in a container without git installs git before actions/checkout', () => {
  for (const [name, job] of Object.entries(workflow.jobs)) {
    if (!job.container?.image?.startsWith('debian:')) continue;
    const checkout = job.steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
    assert.ok(checkout >= 0, `${name} checks out`);
    const installsGit = job.steps.findIndex((s) => /apt-get install\b.*\bgit\b/.test(s.run ?? ''));
    assert.ok(installsGit >= 0 && installsGit < checkout, `${name}: git is installed before actions/checkout`);
    const safe = job.steps.findIndex((s) => /git config --global --add safe\.directory/.test(s.run ?? ''));
    assert.ok(safe > checkout, `${name}: the checkout is marked safe for root's later git calls`);
  }
});

test('check-dist.sh fails outside a git work tree, before building anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-dist-'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(REPO_ROOT, 'scripts', 'check-dist.sh'), join(dir, 'scripts', 'check-dist.sh'));
  // A build that would "succeed": only the work-tree check can fail this run.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', private: true, scripts: { build: 'touch built' } }));
  const result = spawnSync('bash', [join(dir, 'scripts', 'check-dist.sh')], { encoding: 'utf8', env: { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir() } });
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /is not a git work tree, so dist\/ cannot be compared/);
  assert.ok(!existsSync(join(dir, 'built')), 'nothing was built');
});

test('build:tsc empties lib/ first: a deleted test does not keep running from a stale compiled copy', () => {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const dir = mkdtempSync(join(tmpdir(), 'build-tsc-'));
  copyFileSync(join(REPO_ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', private: true, type: 'module' }));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'test', 'unit'), { recursive: true });
  writeFileSync(join(dir, 'test', 'unit', 'kept.test.ts'), 'export const kept = 1;\n');
  mkdirSync(join(dir, 'lib', 'test', 'unit'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'test', 'unit', 'deleted.test.js'), 'throw new Error("a deleted test ran");\n');
  const result = spawnSync('sh', ['-c', scripts['build:tsc']!], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.ok(existsSync(join(dir, 'lib', 'test', 'unit', 'kept.test.js')));
  assert.ok(!existsSync(join(dir, 'lib', 'test', 'unit', 'deleted.test.js')), 'the stale compiled test is gone');
});

test('.ci/run, test.sh and run-example.sh run npm on the toolchain Node 24 (no EBADENGINE under the machine Node 20)', () => {
  for (const file of ['.ci/run', 'scripts/test.sh', 'scripts/run-example.sh']) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    const firstNpm = lines.findIndex((l) => /^\s*(\[.*\] \|\| )?npm /.test(l));
    const node24 = lines.findIndex((l) => /^export PATH="\$\(dirname "\$\(readlink -f \/usr\/local\/bin\/node24\)"\):\$PATH"$/.test(l));
    assert.ok(firstNpm > 0, `${file} runs npm`);
    assert.ok(node24 >= 0 && node24 < firstNpm, `${file}: Node 24 is first on PATH before the first npm (line ${firstNpm + 1})`);
  }
});
