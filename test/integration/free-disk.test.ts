// Free disk, on the real stage from dist/: a stage short of disk fails before writing anything,
// with an error naming the need and the place; a real build reports its peak extra disk. "Too
// little" is a private tmpfs mounted over the stages' part of RUNNER_TEMP (the tests run as root),
// so nothing fills the machine's disk and nothing else writes to the file system measured.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, runStepWithPost, type RunnerJob } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { layDockerFixture } from '../support/workspace.js';
import { requireTools, sh } from '../support/tools.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'free-disk-'));
const mounts: string[] = [];
let jobCount = 0;

/** A job whose stage directories (RUNNER_TEMP/vllm-rocm-action) are a tmpfs of `size`. */
function jobOnTmpfs(size: string): { job: RunnerJob; stages: string } {
  const job = newRunnerJob(join(root, `runner-${++jobCount}`), services.jobEnv('run-1', `job-${jobCount}`));
  const stages = join(job.temp, 'vllm-rocm-action');
  mkdirSync(stages, { recursive: true });
  sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', stages]);
  mounts.push(stages);
  return { job, stages };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

before(async () => {
  if (process.getuid?.() !== 0) throw new Error('these tests mount a tmpfs: run them as root');
  requireTools('docker', 'mount', 'umount');
  services = await startActionsServices();
});

after(async () => {
  for (const dir of mounts.reverse()) sh('umount', [dir]);
  rmSync(root, { recursive: true, force: true });
  await services?.stop();
});

describe('build-docker and free disk', () => {
  test('64 MiB free: exits 1 before building, naming the need, the place and the basis; nothing written', async () => {
    const { job, stages } = jobOnTmpfs('64m');
    layDockerFixture(job, 'reproducible');
    const result = await runStep('build-docker', job, { inputs: { cache: 'none', 'source-date-epoch': '1700000000' } });
    assert.equal(result.exitCode, 1, result.stdout.slice(-3000));
    const dir = join(stages, 'build-docker');
    assert.equal(result.errors.length, 1, result.errors.join('\n'));
    assert.match(
      result.errors[0]!,
      new RegExp(`^build-docker needs about 1\\.0 GiB free under ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} for the OCI archive, 64\\.0 MiB is free \\(the estimate: a floor of 1\\.0 GiB, since the image's size is not known before it is built`),
    );
    assert.doesNotMatch(result.stdout, /docker buildx build|buildx build/, 'buildx never started');
    assert.deepEqual(filesUnder(stages), [], 'nothing half-written');
  });

  test('a real build: the job-time table has the peak extra disk, at least the archive it wrote, against the image size', async () => {
    const { job } = jobOnTmpfs('2g');
    layDockerFixture(job, 'reproducible');
    const { main, post } = await runStepWithPost('build-docker', job, { inputs: { cache: 'none', 'source-date-epoch': '1700000000' } });
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.equal(post.exitCode, 0);
    const archiveBytes = statSync(main.outputs['image-archive']!).size;
    const row = /\| peak extra disk \| ([\d.]+) (B|KiB|MiB|GiB|TiB) \(([\d.]+)× the image's compressed size, [\d.]+ (?:B|KiB|MiB|GiB)\) \|/.exec(post.summary);
    assert.ok(row, post.summary);
    const peak = Number(row[1]) * UNITS[row[2]!]!;
    // The archive sits on the private tmpfs when main stops sampling; a tmpfs counts whole pages.
    assert.ok(peak >= archiveBytes * 0.95, `peak ${peak} bytes, archive ${archiveBytes} bytes`);
    const ratio = Number(row[3]);
    assert.ok(Math.abs(ratio - peak / Number(main.outputs['size-bytes'])) < 0.05 * ratio + 0.01, `ratio ${ratio}`);
  });
});
