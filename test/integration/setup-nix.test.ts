// setup-nix, run from dist/ as the runner runs it, against the real Nix on this machine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, type RunnerJob, valuesSet } from '../support/action-runner.js';
import { fixture } from '../support/fixtures.js';
import { requireTools } from '../support/tools.js';
import { trixieHost, WITHOUT_HOST_NIX } from '../support/nix.js';

const TOKEN = 'ghs_setupNixSecretToken1234567890abcdef';
const root = mkdtempSync(join(tmpdir(), 'setup-nix-'));
const job = (name = 'runner'): RunnerJob => newRunnerJob(join(root, name), {}, TOKEN);

before(() => requireTools('nix', 'unshare', 'mount'));

describe('an existing Nix', () => {
  test('is found with a bare PATH, never reinstalled, and later steps get nix and the drop-in', async () => {
    const j = job();
    // A `bash --noprofile` step on a self-hosted runner may see no Nix on PATH at all.
    const main = await runStep('setup-nix', j, {
      inputs: { 'extra-conf': 'max-jobs = 2\n# a comment\nkeep-outputs = true', substituters: 'file:///var/cache/vllm-nix', 'trusted-public-keys': 'vllm-ci-1:2Up9ZsQ1uKz1Dy1oJtmMZxYJ3wJ3sS3cJ8RrUXxkYxg=' },
      env: { PATH: '/nonexistent' },
    });
    assert.equal(main.exitCode, 0, main.stdout);
    assert.deepEqual(main.errors, []);
    const version = execFileSync('nix', ['--version'], { encoding: 'utf8' }).match(/(\d+\.\d+\.\d+)/)![1];
    assert.equal(main.outputs['nix-version'], version);
    assert.equal(main.outputs['nix-path'], '/usr/bin/nix');
    assert.match(main.stdout, /Found Nix .* at \/usr\/bin\/nix \(distribution package\); not installing\./);
    assert.ok(j.pathAdditions.includes('/usr/bin'));

    const confFiles = j.exportedEnv.NIX_USER_CONF_FILES!;
    const dropIn = confFiles.split(':')[0]!;
    assert.ok(dropIn.startsWith(j.temp), 'the drop-in lives in RUNNER_TEMP, not in the user\'s nix.conf');
    assert.equal(statSync(dropIn).mode & 0o777, 0o600);
    const text = readFileSync(dropIn, 'utf8');
    assert.match(text, /^extra-experimental-features = nix-command flakes$/m);
    assert.match(text, /^access-tokens = github\.com=ghs_setupNixSecretToken/m);
    assert.match(text, /^max-jobs = 2$/m);

    // The token was masked before anything printed it, and never printed at all.
    assert.ok(main.masks.includes(TOKEN));
    assert.deepEqual(main.leakedSecrets, []);
    assert.ok(!main.stdout.replace(`::add-mask::${TOKEN}`, '').includes(TOKEN));

    // A later step, with the job's PATH additions and exported env, sees nix and the settings.
    const later = execFileSync('nix', ['show-config'], { encoding: 'utf8', env: { PATH: [...j.pathAdditions, '/nonexistent'].join(':'), HOME: j.home, ...j.exportedEnv } });
    assert.match(later, /^max-jobs = 2$/m);
    assert.match(later, /^substituters = .*file:\/\/\/var\/cache\/vllm-nix/m);
    assert.match(later, /^trusted-public-keys = .*vllm-ci-1:/m);
    assert.match(later, /^experimental-features = .*flakes/m);

    const post = await runStep('setup-nix', j, { phase: 'post', state: main.state });
    assert.equal(post.exitCode, 0);
    assert.ok(!existsSync(dropIn), 'post removes the drop-in that holds the token');
  });

  test("trixie's Nix 2.26 (nix config show) is found with a bare PATH and judges extra-conf", async () => {
    const host = trixieHost();
    const j = job('runner-trixie');
    const main = await runStep('setup-nix', j, { inputs: { 'extra-conf': 'max-jobs = 3' }, env: { PATH: '/nonexistent' }, wrap: host.wrap, node: host.node! });
    assert.equal(main.exitCode, 0, main.stdout + main.stderr);
    assert.match(main.outputs['nix-version']!, /^2\.26\.\d+$/);
    assert.equal(main.outputs['nix-path'], '/usr/bin/nix');
    const bad = await runStep('setup-nix', job('runner-trixie'), { inputs: { 'extra-conf': 'vllm-turbo = true' }, wrap: host.wrap, node: host.node! });
    assert.equal(bad.exitCode, 1);
    assert.match(bad.errors[0]!, /^Input 'extra-conf': Nix 2\.26\.\d+ does not know the setting 'vllm-turbo'/);
  });

  test('GHES: the token is written for the server in use', async () => {
    const j = job();
    const main = await runStep('setup-nix', j, { env: { GITHUB_SERVER_URL: 'https://ghe.example.com' } });
    assert.equal(main.exitCode, 0, main.stdout);
    const dropIn = j.exportedEnv.NIX_USER_CONF_FILES!.split(':')[0]!;
    assert.match(readFileSync(dropIn, 'utf8'), new RegExp(`^access-tokens = ghe\\.example\\.com=${TOKEN}$`, 'm'));
    const post = await runStep('setup-nix', j, { phase: 'post', state: main.state });
    assert.equal(post.exitCode, 0);
    assert.ok(!existsSync(dropIn));
  });
});

describe('bad input: clear error, exit 1, nothing left behind', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['extra-conf line that is not a setting', { 'extra-conf': 'max-jobs = 2\nsandbox false' }, /^Input 'extra-conf': line 2 \('sandbox false'\): expected "name = value"/],
    ['extra-conf include', { 'extra-conf': 'include /etc/other.conf' }, /^Input 'extra-conf': line 1 .*include directives are not allowed/],
    ['extra-conf setting Nix does not know', { 'extra-conf': 'max-jobs = 2\nvllm-turbo = true' }, /^Input 'extra-conf': Nix 2\.\d+\.\d+ does not know the setting 'vllm-turbo'/],
    ['substituter that is not a URL', { substituters: 'cache.example.org' }, /^Input 'substituters': 'cache\.example\.org' is not a binary cache URL/],
    ['malformed public key', { 'trusted-public-keys': 'vllm-ci-1' }, /^Input 'trusted-public-keys': 'vllm-ci-1' is not a public key/],
    ['nix-version', { 'nix-version': 'latest' }, /^Input 'nix-version': must be a Nix release such as/],
  ];
  for (const [name, inputs, pattern] of cases) {
    test(name, async () => {
      const j = job();
      const result = await runStep('setup-nix', j, { inputs });
      assert.equal(result.exitCode, 1, result.stdout);
      assert.equal(result.errors.length, 1);
      assert.match(result.errors[0]!, pattern);
      assert.deepEqual(valuesSet(result.outputs), {});
      assert.equal(j.exportedEnv.NIX_USER_CONF_FILES, undefined);
      assert.ok(!existsSync(join(j.temp, 'vllm-rocm-action', 'setup-nix')), 'no drop-in left behind');
      assert.deepEqual(result.leakedSecrets, []);
    });
  }
});

describe('no Nix on the machine', () => {
  let server: Server;
  let installerUrl = '';
  const realNix = join(root, 'real-nix');

  before(async () => {
    copyFileSync('/usr/bin/nix', realNix);
    // Stands in for releases.nixos.org (unreachable here): an installer that puts Nix in the
    // user profile, and records the flags it was given.
    const installer = `#!/bin/sh\nenv > "$HOME/installer-env"\necho "installer flags: $*" > "$HOME/installer-flags"\nwhile [ $# -gt 0 ]; do [ "$1" = --nix-extra-conf-file ] && cp "$2" "$HOME/installer-extra.conf"; shift; done\nmkdir -p "$HOME/.nix-profile/bin"\ncp ${realNix} "$HOME/.nix-profile/bin/nix"\necho "Nix installed"\n`;
    // https only: a loopback server with a self-signed certificate the step is told to trust.
    server = createServer({ cert: readFileSync(fixture('tls', 'loopback.crt')), key: readFileSync(fixture('tls', 'loopback.key')) }, (req, res) => {
      if (req.url === '/nix/nix-2.8.0/install') res.end(installer);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    installerUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/nix/nix-2.8.0/install`;
  });
  after(() => {
    server?.close();
    rmSync(realNix, { force: true });
  });

  const noNix = WITHOUT_HOST_NIX; // this job's machine has no Nix

  const trustLoopback = { NODE_EXTRA_CA_CERTS: fixture('tls', 'loopback.crt') };

  test('installs with the installer, then finds it in the user profile', async () => {
    const j = job();
    const runtimeToken = 'actions-runtime-token-0123456789abcdef';
    const result = await runStep('setup-nix', j, {
      inputs: { 'nix-version': '2.8.0', 'install-url': installerUrl, 'github-token': TOKEN },
      env: { ...trustLoopback, ACTIONS_RUNTIME_TOKEN: runtimeToken },
      wrap: noNix,
    });
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    assert.equal(result.outputs['nix-path'], join(j.home, '.nix-profile', 'bin', 'nix'));
    assert.match(readFileSync(join(j.home, 'installer-flags'), 'utf8'), /--(no-)?daemon --yes --no-channel-add --no-modify-profile --nix-extra-conf-file \S+/);
    assert.match(readFileSync(join(j.home, 'installer-extra.conf'), 'utf8'), /^trusted-users = root \S+$/m);
    assert.match(result.stdout, /Installing Nix 2\.8\.0 from https:\/\/127\.0\.0\.1/);
    // Downloaded code gets a minimal environment: none of the job's tokens or inputs.
    const env = readFileSync(join(j.home, 'installer-env'), 'utf8');
    assert.match(env, /^PATH=/m);
    assert.match(env, /^HOME=/m);
    for (const secret of [TOKEN, runtimeToken]) assert.ok(!env.includes(secret), 'a token reached the installer');
    assert.doesNotMatch(env, /^(INPUT_|GITHUB_|ACTIONS_)/m);
  });

  test('an install-url that is not https is an input error, and nothing is downloaded', async () => {
    const j = job('runner-without-nix-http');
    const result = await runStep('setup-nix', j, { inputs: { 'install-url': installerUrl.replace('https:', 'http:') }, wrap: noNix });
    assert.equal(result.exitCode, 1);
    assert.deepEqual(result.errors, [`Input 'install-url': must be an https:// URL: the installer is code run on this machine (got '${installerUrl.replace('https:', 'http:')}')`]);
    assert.ok(!existsSync(join(j.home, 'installer-flags')));
  });

  test('a failed download is a clear error', async () => {
    const j = job('runner-without-nix'); // its own HOME: no user profile from the test above
    const result = await runStep('setup-nix', j, { inputs: { 'nix-version': '2.8.1', 'install-url': installerUrl.replace('2.8.0', '9.9.9') }, env: trustLoopback, wrap: noNix });
    assert.equal(result.exitCode, 1);
    assert.match(result.errors[0]!, /downloading the Nix installer from .* failed: HTTP 404/);
  });
});
