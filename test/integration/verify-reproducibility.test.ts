// verify-reproducibility, run from dist/ as the runner runs it: real builds (dockerd + buildx,
// Nix), images made by hand with planted nondeterminism, and artifact mode across two jobs
// through the artifact-service stand-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { startActionsServices, type ActionsServices } from '../support/actions-services.js';
import { nixFlakeFixture } from '../support/nix.js';
import { requireTools, sh } from '../support/tools.js';
import { layDockerFixture } from '../support/workspace.js';

let services: ActionsServices;
const root = mkdtempSync(join(tmpdir(), 'verify-'));
let jobs = 0;
const job = (): RunnerJob => newRunnerJob(join(root, 'runner'), services.jobEnv('run-1', `job-${++jobs}`));

interface Report {
  reproducible: boolean;
  differences: Array<{ where: string; kind: string; path?: string; field: string; a: unknown; b: unknown; cause: string; fix: string }>;
}
const reportOf = (r: StepResult): Report => JSON.parse(readFileSync(r.outputs.report!, 'utf8')) as Report;

before(async () => {
  requireTools('docker', 'nix', 'tar', 'gzip');
  services = await startActionsServices();
});
after(async () => services?.stop());

/** Builds an OCI archive of the fixture by hand with buildx (no action involved). */
function buildArchive(ctx: string, dest: string, opts: { rewriteTimestamp?: boolean; label?: string; epoch?: string } = {}): string {
  const args = ['buildx', 'build', '--provenance=false', '--progress=quiet', '--build-arg', `SOURCE_DATE_EPOCH=${opts.epoch ?? '1700000000'}`];
  if (opts.label) args.push('--label', opts.label);
  args.push('--output', `type=oci,dest=${dest}${opts.rewriteTimestamp === false ? '' : ',rewrite-timestamp=true'}`, ctx);
  sh('docker', args, { env: { ...process.env, SOURCE_DATE_EPOCH: opts.epoch ?? '1700000000' } });
  return dest;
}

describe('mode: rebuild', () => {
  test('docker: a reproducible Dockerfile gives reproducible=true, digests equal', async () => {
    const j = job();
    layDockerFixture(j, 'reproducible');
    const result = await runStep('verify-reproducibility', j, { inputs: { builder: 'docker', 'source-date-epoch': '1700000000' } });
    assert.equal(result.exitCode, 0, result.stdout.slice(-3000));
    assert.equal(result.outputs.reproducible, 'true');
    assert.equal(result.outputs['digest-a'], result.outputs['digest-b']);
    assert.equal(result.outputs.differences, '0');
    assert.match(result.summary, /^## Reproducibility: ✅ reproducible/m);
    assert.ok(services.artifacts().some((a) => a.name === 'reproducibility-report'), 'the JSON report is uploaded as an artifact');
    // The rebuild shares no cache with build A (issue 20): its argv, as the stage logs it.
    const builds = result.stdout.split('\n').filter((l) => l.startsWith('docker buildx build '));
    assert.equal(builds.length, 2, builds.join('\n'));
    const rebuild = builds[1]!.split(' ');
    assert.ok(rebuild.includes('--no-cache'), builds[1]);
    for (const flag of ['--cache-from', '--cache-to']) assert.ok(!rebuild.includes(flag), `${flag} in the rebuild: ${builds[1]}`);
    assert.match(result.summary, new RegExp(`^The rebuild \\(build B\\) is cold and independent by design: .*It took ${result.outputs['rebuild-seconds']!.replace('.', '\\.')} s, verify's dominant cost`, 'm'));
    // Issue 20's disk: both images go once compared (later stages read the build stage's own),
    // and the summary gives the rebuild's peak extra disk.
    const work = join(j.temp, 'vllm-rocm-action', 'verify-reproducibility');
    assert.deepEqual(readdirSync(work).filter((name) => /^[ab]\.oci/.test(name)), [], readdirSync(work).join(', '));
    assert.ok(existsSync(result.outputs.report!), 'the report stays');
    assert.match(result.summary, /Peak extra disk: [\d.]+ (?:B|KiB|MiB|GiB) \([\d.]+× the image's compressed size, [\d.]+ (?:B|KiB|MiB|GiB)\); verify's own copies were removed once compared\./);
    // Build B comes as a tar on buildx's stdout and costs only what differs from A: here nothing
    // (every blob a hard link to A's), said in the log and in the summary's rebuild note.
    assert.ok(rebuild.includes('type=oci,dest=-,rewrite-timestamp=true'), builds[1]);
    const linked = /^build B: (\d+) of (\d+) blobs identical to build A's \(linked\), 0 written \(0 B\)\.$/m.exec(result.stdout);
    assert.ok(linked && linked[1] === linked[2] && Number(linked[1]) >= 3, result.stdout.slice(-3000));
    assert.ok(result.summary.includes(`Build B: ${linked[1]} of ${linked[1]} blobs identical to build A's (linked), 0 written (0 B).`), result.summary);
  });

  test('docker: random content written by a step fails the step and names the file', async () => {
    const j = job();
    layDockerFixture(j, 'nondeterministic');
    const result = await runStep('verify-reproducibility', j, { inputs: { builder: 'docker', 'source-date-epoch': '1700000000' } });
    assert.equal(result.exitCode, 1);
    assert.equal(result.outputs.reproducible, 'false');
    assert.notEqual(result.outputs['digest-a'], result.outputs['digest-b']);
    assert.match(result.errors[0]!, /^Not reproducible: sha256:\S+ vs sha256:\S+, \d+ differences/);
    const file = reportOf(result).differences.find((d) => d.where === 'file');
    assert.ok(file, JSON.stringify(reportOf(result).differences));
    assert.equal(file.path, 'opt/vllm/build-id');
    assert.equal(file.kind, 'content');
    assert.match(result.summary, /opt\/vllm\/build-id/);
    assert.ok(Buffer.byteLength(result.summary) < 1024 * 1024);
    // B's two reproducible layers (busybox, VERSION) are A's own files; the random layer, the
    // config and the manifest are written. The linked layers read the same: build-id is the only file that differs.
    assert.match(result.stdout, /^build B: 2 of 5 blobs identical to build A's \(linked\), 3 written \([\d.]+ (?:B|KiB)\)\.$/m);
    assert.deepEqual(reportOf(result).differences.filter((d) => d.where === 'file').map((d) => d.path), ['opt/vllm/build-id']);
  });

  test('docker, archive-a a layout: a rebuild that fails leaves no partial build B, and build A as it was', async () => {
    const j = job();
    const ctx = layDockerFixture(j, 'reproducible', 'good');
    const a = join(j.workspace, 'a-layout');
    sh('docker', ['buildx', 'build', '--provenance=false', '--progress=quiet', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '--output', `type=oci,dest=${a},tar=false,rewrite-timestamp=true`, ctx], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
    const blobs = join(a, 'blobs', 'sha256');
    const before = readdirSync(blobs).sort().map((name) => `${name} ${statSync(join(blobs, name)).nlink}`);
    layDockerFixture(j, 'failing');
    const result = await runStep('verify-reproducibility', j, { inputs: { builder: 'docker', 'archive-a': 'a-layout', 'source-date-epoch': '1700000000' } });
    assert.equal(result.exitCode, 1, result.stdout.slice(-3000));
    assert.match(result.errors[0]!, /failed at step .*exit code: 3/);
    assert.ok(result.stdout.split('\n').some((l) => l.startsWith('docker buildx build ') && l.includes('type=oci,dest=-')), 'build B was streamed');
    const work = join(j.temp, 'vllm-rocm-action', 'verify-reproducibility');
    assert.deepEqual(readdirSync(work).filter((name) => name.startsWith('b.oci')), [], readdirSync(work).join(', '));
    assert.deepEqual(readdirSync(blobs).sort().map((name) => `${name} ${statSync(join(blobs, name)).nlink}`), before);
  });

  test('fail-on-difference: false reports without failing', async () => {
    const j = job();
    layDockerFixture(j, 'nondeterministic');
    const result = await runStep('verify-reproducibility', j, { inputs: { builder: 'docker', 'fail-on-difference': 'false' } });
    assert.equal(result.exitCode, 0);
    assert.equal(result.outputs.reproducible, 'false');
    assert.ok(result.warnings.some((w) => /^Not reproducible/.test(w)));
  });

  test('nix: a reproducible flake gives reproducible=true (nix build --rebuild)', async () => {
    const j = job();
    nixFlakeFixture('oci', j.workspace);
    const result = await runStep('verify-reproducibility', j, { inputs: { builder: 'nix' } });
    assert.equal(result.exitCode, 0, result.stdout.slice(-3000));
    assert.equal(result.outputs.reproducible, 'true');
    assert.match(result.stdout, /the second build is bit-identical to the first/);
  });

  test('nix: planted randomness is found in the kept .check output, named, and the .check path removed', async () => {
    const j = job();
    nixFlakeFixture('oci', j.workspace);
    const result = await runStep('verify-reproducibility', j, { inputs: { builder: 'nix', attr: 'vllm-container-nondeterministic' } });
    assert.equal(result.exitCode, 1, result.stdout.slice(-3000));
    assert.equal(result.outputs.reproducible, 'false');
    const file = reportOf(result).differences.find((d) => d.where === 'file');
    assert.equal(file?.path, 'opt/vllm/build-id');
    const check = /differs from '([^']+\.check)'/.exec(result.stdout)?.[1];
    assert.ok(check && !existsSync(check), 'the .check output is cleaned up');
  });

  test('nix: a build that prints "keeping build directory" lines deletes nothing of it; only the private TMPDIR and the .check path go', async () => {
    const j = job();
    nixFlakeFixture('oci', j.workspace);
    // The checkout is the victim a hostile build names, in Nix's own words and in a forged error line.
    const victim = j.workspace;
    const script = join(j.workspace, 'oci-image.sh');
    writeFileSync(script, [
      `echo "note: keeping build directory '${victim}'"`,
      `echo "error: derivation '/nix/store/xbsm1pzifskvcwwdyjdz447n0n8d2y4s-x.drv' may not be deterministic: output '/nix/store/7071nidj3v0b5w7pqv2ygdn9v3zqikvq-x' differs from '${victim}/x.check'" >&2`,
      readFileSync(script, 'utf8'),
    ].join('\n'));
    const result = await runStep('verify-reproducibility', j, { inputs: { builder: 'nix', attr: 'vllm-container-nondeterministic' } });
    assert.equal(result.outputs.reproducible, 'false', result.stdout.slice(-3000));
    assert.match(result.stdout, new RegExp(`> note: keeping build directory '${victim}'`), 'the build printed the hostile line');
    assert.ok(existsSync(join(victim, 'flake.nix')), 'the checkout named by the build log is still there');
    const work = join(j.temp, 'vllm-rocm-action', 'verify-reproducibility');
    const kept = /^note: keeping build directory '([^']+)'$/m.exec(result.stdout)?.[1];
    assert.ok(kept?.startsWith(join(work, 'nix-tmp-')), `Nix kept its build directory in the private TMPDIR: ${kept}`);
    assert.ok(kept && !existsSync(kept), 'the private TMPDIR is removed');
    const check = /^error: .* differs from '([^']+\.check)'$/m.exec(result.stdout)?.[1];
    assert.match(check ?? '', /^\/nix\/store\/[0-9a-z]{32}-vllm-container-nondeterministic-oci\.tar\.check$/);
    assert.ok(!existsSync(check!), 'the .check output is cleaned up');
  });
});

let ctx = '';
let base = '';

describe('mode: compare (planted nondeterminism of each kind)', () => {
  before(() => {
    const j = job();
    ctx = layDockerFixture(j, 'reproducible', '../ctx');
    base = buildArchive(ctx, join(root, 'base.tar'));
  });

  async function compare(b: string): Promise<{ result: StepResult; report: Report }> {
    const result = await runStep('verify-reproducibility', job(), { inputs: { mode: 'compare', 'archive-a': base, 'archive-b': b, 'fail-on-difference': 'false' } });
    assert.equal(result.exitCode, 0, result.stdout.slice(-3000));
    return { result, report: reportOf(result) };
  }

  test('the same archive twice is reproducible', async () => {
    const { result } = await compare(buildArchive(ctx, join(root, 'same.tar')));
    assert.equal(result.outputs.reproducible, 'true');
  });

  test('mtimes without rewrite-timestamp → mtime, SOURCE_DATE_EPOCH / rewrite-timestamp fix', async () => {
    sh('docker', ['buildx', 'prune', '--all', '--force']);
    const { report } = await compare(buildArchive(ctx, join(root, 'mtime.tar'), { rewriteTimestamp: false }));
    assert.equal(report.reproducible, false);
    const mtime = report.differences.find((d) => d.where === 'file' && d.kind === 'mtime');
    assert.ok(mtime, JSON.stringify(report.differences.slice(0, 5)));
    assert.match(mtime.fix, /rewrite-timestamp|SOURCE_DATE_EPOCH/);
  });

  test('a changed label and created date → config fields named', async () => {
    const { report } = await compare(buildArchive(ctx, join(root, 'label.tar'), { label: 'org.opencontainers.image.revision=abc', epoch: '1700000999' }));
    const fields = report.differences.filter((d) => d.where === 'config').map((d) => d.field);
    assert.ok(fields.some((f) => /Labels/.test(f)), JSON.stringify(fields));
    assert.ok(fields.some((f) => /created/.test(f)), JSON.stringify(fields));
  });

  test('file order and gzip level in a hand-made image → file order, compression only', async () => {
    // Repack the first layer of `base` two ways: reversed member order, and another gzip level.
    const dir = mkdtempSync(join(tmpdir(), 'repack-'));
    sh('tar', ['-xf', base, '-C', dir]);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; size: number }> };
    const manifestPath = join(dir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7));
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { layers: Array<{ digest: string; size: number }>; config: unknown };
    const layer = manifest.layers[manifest.layers.length - 1]!; // the COPY app/ layer: several files
    const layerPath = join(dir, 'blobs', 'sha256', layer.digest.slice(7));
    const tarPath = join(dir, 'layer.tar');
    writeFileSync(tarPath, execFileSync('gzip', ['-dc', layerPath]));
    const variants: Record<string, Buffer> = {
      gzip: execFileSync('gzip', ['-1', '-n', '-c', tarPath]),
    };
    const unpacked = join(dir, 'unpacked');
    mkdirSync(unpacked);
    sh('tar', ['-xpf', tarPath, '-C', unpacked]);
    const names = sh('tar', ['-tf', tarPath]).split('\n').filter(Boolean).reverse();
    variants.order = execFileSync('sh', ['-c', `tar --no-recursion --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -cf - -C "${unpacked}" ${names.map((n) => `'${n}'`).join(' ')} | gzip -n -9`], { maxBuffer: 64 << 20 });
    const results: Record<string, Report> = {};
    for (const [name, bytes] of Object.entries(variants)) {
      const out = join(root, `${name}.tar`);
      const v = mkdtempSync(join(tmpdir(), `variant-${name}-`));
      sh('cp', ['-a', `${dir}/.`, v]);
      const digest = `sha256:${createHashHex(bytes)}`;
      writeFileSync(join(v, 'blobs', 'sha256', digest.slice(7)), bytes);
      const diffId = `sha256:${createHashHex(execFileSync('gzip', ['-dc'], { input: bytes, maxBuffer: 64 << 20 }))}`;
      const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { layers: Array<{ digest: string; size: number }>; config: { digest: string; size: number } };
      const configPath = join(v, 'blobs', 'sha256', m.config.digest.slice(7));
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as { rootfs: { diff_ids: string[] } };
      config.rootfs.diff_ids[config.rootfs.diff_ids.length - 1] = diffId;
      const configBytes = Buffer.from(JSON.stringify(config));
      m.config = { ...m.config, digest: `sha256:${createHashHex(configBytes)}`, size: configBytes.length };
      writeFileSync(join(v, 'blobs', 'sha256', m.config.digest.slice(7)), configBytes);
      m.layers[m.layers.length - 1] = { ...layer, digest, size: bytes.length };
      const mBytes = Buffer.from(JSON.stringify(m));
      writeFileSync(join(v, 'blobs', 'sha256', createHashHex(mBytes)), mBytes);
      writeFileSync(join(v, 'index.json'), JSON.stringify({ ...index, manifests: [{ ...index.manifests[0], digest: `sha256:${createHashHex(mBytes)}`, size: mBytes.length }] }));
      sh('tar', ['-cf', out, '-C', v, '.']);
      results[name] = (await compare(out)).report;
    }
    assert.ok(results.gzip!.differences.some((d) => d.kind === 'compression'), JSON.stringify(results.gzip!.differences));
    assert.ok(!results.gzip!.differences.some((d) => d.where === 'file'), 'equal diff_ids: no file walked');
    assert.ok(results.order!.differences.some((d) => d.kind === 'file-order'), JSON.stringify(results.order!.differences.slice(0, 5)));
  });
});

describe('mode: artifact, across two jobs of one run', () => {
  test('job A uploads its description; job B compares against it without the image bytes', async () => {
    const ja = job();
    const ctx = layDockerFixture(ja, 'reproducible', '../artifact-ctx');
    const a = buildArchive(ctx, join(root, 'artifact-a.tar'));
    const up = await runStep('verify-reproducibility', ja, { inputs: { mode: 'artifact', 'archive-a': a, 'artifact-name': 'image-description-a' } });
    assert.equal(up.exitCode, 0, up.stdout.slice(-3000));
    assert.ok(services.artifacts().some((x) => x.name === 'image-description-a'));

    const same = await runStep('verify-reproducibility', job(), { inputs: { mode: 'artifact', 'archive-a': buildArchive(ctx, join(root, 'artifact-b.tar')), 'compare-with': 'image-description-a' } });
    assert.equal(same.exitCode, 0, same.stdout.slice(-3000));
    assert.equal(same.outputs.reproducible, 'true');

    writeFileSync(join(ctx, 'app', 'serve.py'), 'print("changed")\n');
    const changed = await runStep('verify-reproducibility', job(), { inputs: { mode: 'artifact', 'archive-a': buildArchive(ctx, join(root, 'artifact-c.tar')), 'compare-with': 'image-description-a' } });
    assert.equal(changed.exitCode, 1);
    assert.equal(changed.outputs.reproducible, 'false');
    const file = reportOf(changed).differences.find((d) => d.where === 'file');
    assert.equal(file?.path, 'opt/vllm/app/serve.py');

    // A third job compares two runners' descriptions, building nothing (no context, no image).
    const jb = job();
    const upB = await runStep('verify-reproducibility', jb, { inputs: { mode: 'artifact', 'archive-a': buildArchive(ctx, join(root, 'artifact-d.tar')), 'artifact-name': 'image-description-changed' } });
    assert.equal(upB.exitCode, 0, upB.stdout.slice(-3000));
    const judge = await runStep('verify-reproducibility', job(), { inputs: { mode: 'artifact', 'compare-with': 'image-description-a\nimage-description-changed', 'fail-on-difference': 'false' } });
    assert.equal(judge.exitCode, 0, judge.stdout.slice(-3000));
    assert.equal(judge.outputs.reproducible, 'false');
    assert.equal(reportOf(judge).differences.find((d) => d.where === 'file')?.path, 'opt/vllm/app/serve.py');
    assert.match(judge.summary, /^- A: .*\(description\)/m, 'the summary says side A is a description');
    assert.match(judge.summary, /^- B: .*\(description\)/m, 'and so is side B');
    const twice = await runStep('verify-reproducibility', job(), { inputs: { mode: 'artifact', 'compare-with': 'image-description-a, image-description-a' } });
    assert.equal(twice.exitCode, 0, twice.stdout.slice(-3000));
    assert.equal(twice.outputs.reproducible, 'true');

    // Another job of the run uploading under the same name never replaces job A's description.
    const clash = await runStep('verify-reproducibility', job(), { inputs: { mode: 'artifact', 'archive-a': a, 'artifact-name': 'image-description-a' } });
    assert.equal(clash.exitCode, 1);
    assert.match(clash.errors[0]!, /an artifact named 'image-description-a' already exists in this workflow run: give each job its own name/);
  });
});

describe('bad input: clear error, exit 1, no verdict', () => {
  async function fails(inputs: Record<string, string>, pattern: RegExp): Promise<void> {
    const result = await runStep('verify-reproducibility', job(), { inputs });
    assert.equal(result.exitCode, 1, result.stdout.slice(-2000));
    assert.equal(result.errors.length, 1, result.errors.join(' | '));
    assert.match(result.errors[0]!, pattern);
    assert.equal(result.outputs.reproducible, '', 'no verdict claimed');
  }
  const good = () => buildArchive(ctx, join(root, `good-${Date.now()}.tar`));

  test('compare without archive-b', () => fails({ mode: 'compare', 'archive-a': good() }, /^Input 'archive-b': must be set in mode 'compare'/));
  test('an archive that does not exist', () => fails({ mode: 'compare', 'archive-a': '/nonexistent.tar', 'archive-b': '/nonexistent.tar' }, /^Input 'archive-a': \/nonexistent\.tar does not exist/));
  test('unknown mode', () => fails({ mode: 'diff' }, /^Input 'mode': must be one of rebuild, compare, artifact/));
  test('compare-with naming three artifacts', () => fails({ mode: 'artifact', 'compare-with': 'a\nb\nc' }, /^Input 'compare-with': names 3 artifacts; give one \(compared with this job's image\) or two/));
  test('compare-with naming two artifacts beside artifact-name', () => fails({ mode: 'artifact', 'compare-with': 'a\nb', 'artifact-name': 'c' }, /^Input 'compare-with': names two descriptions to compare with each other, so this job has no image of its own: leave artifact-name empty/));
  test('artifact mode with neither name', () => fails({ mode: 'artifact' }, /^Input 'artifact-name': or compare-with must be set/));
  test('a truncated archive', () => {
    const g = good();
    const cut = join(root, 'cut.tar');
    writeFileSync(cut, readFileSync(g).subarray(0, 5000));
    return fails({ mode: 'compare', 'archive-a': g, 'archive-b': cut }, /cut\.tar.*(truncated|ends)/i);
  });
  test('a blob whose bytes do not match its digest', () => {
    const g = good();
    const bytes = Buffer.from(readFileSync(g));
    // Flip a byte in the middle of the biggest blob (the busybox layer).
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const bad = join(root, 'flipped.tar');
    writeFileSync(bad, bytes);
    return fails({ mode: 'compare', 'archive-a': g, 'archive-b': bad }, /digest/i);
  });
  test('something that is not an image', () => {
    const notImage = join(root, 'not-image.tar');
    sh('tar', ['-cf', notImage, '-C', root, 'cut.tar']);
    return fails({ mode: 'compare', 'archive-a': good(), 'archive-b': notImage }, /not-image\.tar/);
  });
});

function createHashHex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
