// A registry login that already exists (docker login, docker/login-action and its helpers), reused
// by publish (push and cosign) and smoke-test (pull by digest) when no username/password is given:
// the Docker config's auths (base64 auth, identitytoken), credHelpers and credsStore, run from
// dist/ as the runner runs them, against the htpasswd and token registries of test/support/registry.ts
// and a docker-credential-<name> stand-in that speaks the real protocol.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunnerJob, runStep, runStepWithPost, type RunnerJob, type StepResult } from '../support/action-runner.js';
import { credentialHelper } from '../support/credential-helper.js';
import { fakeVllmImage, freePort } from '../support/fake-vllm.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { requireTools, sh } from '../support/tools.js';

const root = mkdtempSync(join(tmpdir(), 'h-login-test-'));
const USER = { name: 'loginuser', password: 'pw-Lg7-existing-login' };
let authed: TestRegistry;
let tokened: TestRegistry;
let archive: string;
let digest: string;
let jobs = 0;

/** A Docker config directory holding `config`. */
function dockerConfig(config: object): string {
  const dir = mkdtempSync(join(root, 'docker-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function job(env: Record<string, string>, path: string[] = []): RunnerJob {
  const j = newRunnerJob(join(root, `runner-${++jobs}`), env);
  j.pathAdditions.unshift(...path);
  return j;
}

const basic = (user: { name: string; password: string }) => Buffer.from(`${user.name}:${user.password}`).toString('base64');
const unmasked = (result: StepResult) => result.stdout.replace(/^::add-mask::.*$/gm, '');

function ok(result: StepResult): StepResult {
  assert.equal(result.exitCode, 0, `step failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-2000)}`);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.leakedSecrets, []);
  return result;
}

function failed(result: StepResult, message: RegExp): string {
  assert.equal(result.exitCode, 1, `expected exit 1:\n${result.stdout.slice(-3000)}`);
  assert.ok(result.errors.some((e) => message.test(e)), `no error matching ${message}: ${JSON.stringify(result.errors)}`);
  assert.deepEqual(result.leakedSecrets, []);
  return result.errors.join('\n');
}

async function publish(j: RunnerJob, inputs: Record<string, string>): Promise<StepResult> {
  const run = await runStepWithPost('publish', j, { inputs });
  assert.equal(run.post.exitCode, 0);
  return run.main;
}

before(async () => {
  requireTools('docker', 'docker-registry', 'openssl', 'cosign');
  authed = await startTestRegistry({ user: USER });
  tokened = await startTestRegistry({ user: USER, token: true });
  const dir = join(root, 'image');
  mkdirSync(dir);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY payload.txt /payload.txt\n');
  writeFileSync(join(dir, 'payload.txt'), 'existing login payload\n');
  archive = join(dir, 'image.tar');
  sh('docker', ['buildx', 'build', '--quiet', '--provenance=false', '--sbom=false', '--output', `type=oci,dest=${archive},rewrite-timestamp=true`, dir], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  digest = (JSON.parse(sh('tar', ['-xOf', archive, 'index.json'])) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest;
});

after(async () => {
  await authed?.kill();
  await tokened?.kill();
});

describe('publish with no username/password: the Docker config', () => {
  test('auths with a base64 auth (docker login\'s form): pushed; the password and the auth are masked first', async () => {
    const auth = basic(USER);
    const config = dockerConfig({ auths: { [authed.host]: { auth } } });
    const main = ok(await publish(job({ DOCKER_CONFIG: config }), { source: archive, image: `${authed.host}/team/from-auths`, tags: 'v1' }));
    assert.deepEqual(await authed.tags('team/from-auths'), ['v1']);
    assert.ok(main.masks.includes(USER.password) && main.masks.includes(auth), JSON.stringify(main.masks));
    assert.match(main.stdout, new RegExp(`Credentials for ${authed.host}: user ${USER.name}, from auths\\["${authed.host}"\\] in ${config}/config.json`));
    assert.ok(!unmasked(main).includes(USER.password) && !unmasked(main).includes(auth));
  });

  test('a legacy auths key with a scheme and path (http://host/v1/) matches its host, as docker\'s file store does', async () => {
    const config = dockerConfig({ auths: { [`http://${authed.host}/v1/`]: { auth: basic(USER) } } });
    ok(await publish(job({ DOCKER_CONFIG: config }), { source: archive, image: `${authed.host}/team/legacy-key`, tags: 'v1' }));
    assert.deepEqual(await authed.tags('team/legacy-key'), ['v1']);
  });

  test('credHelpers for the registry: the helper is asked with hostname:port; cosign signs with the same credentials', async () => {
    const helper = credentialHelper('standin', { [authed.host]: { username: USER.name, secret: USER.password } });
    // credsStore names a helper that is not there: credHelpers wins for this registry, as in docker.
    const config = dockerConfig({ auths: { [authed.host]: {} }, credHelpers: { [authed.host]: 'standin' }, credsStore: 'absent' });
    const keys = mkdtempSync(join(root, 'keys-'));
    sh('cosign', ['generate-key-pair'], { cwd: keys, env: { ...process.env, COSIGN_PASSWORD: 'cosign-pw-Lg7' } });
    const main = ok(
      await publish(job({ DOCKER_CONFIG: config }, [helper.dir]), {
        source: archive,
        image: `${authed.host}/team/from-helper`,
        tags: 'signed',
        sign: 'cosign-key',
        'cosign-key': readFileSync(join(keys, 'cosign.key'), 'utf8'),
        'cosign-password': 'cosign-pw-Lg7',
        'transparency-log': 'false',
      }),
    );
    assert.equal(readFileSync(helper.log, 'utf8'), `${authed.host}\n`);
    assert.ok(main.masks.includes(USER.password));
    assert.match(main.stdout, /from docker-credential-standin \(credHelpers\[/);
    assert.match(main.outputs.signature!, new RegExp(`^${authed.host}/team/from-helper:sha256-${digest.slice(7)}\\.sig@sha256:`));
    sh('cosign', ['verify', '--key', join(keys, 'cosign.pub'), '--insecure-ignore-tlog', '--allow-http-registry', `${authed.host}/team/from-helper@${digest}`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig({ auths: { [authed.host]: { auth: basic(USER) } } }) } });
    // The SBOM (evidence: true by default) is attested with the same credentials.
    sh('cosign', ['verify-attestation', '--key', join(keys, 'cosign.pub'), '--type', 'https://cyclonedx.org/bom', '--insecure-ignore-tlog', '--allow-http-registry', `${authed.host}/team/from-helper@${digest}`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig({ auths: { [authed.host]: { auth: basic(USER) } } }) } });
    assert.deepEqual(await authed.tags('team/from-helper'), ['signed', `sha256-${digest.slice(7)}.att`, `sha256-${digest.slice(7)}.sig`].sort());
  });

  test('auths with an identitytoken: exchanged at the token realm with grant_type=refresh_token (POST), never sent as a password', async () => {
    const config = dockerConfig({ auths: { [tokened.host]: { identitytoken: tokened.refreshToken } } });
    const getsBefore = tokened.tokenRequests.length;
    const main = ok(await publish(job({ DOCKER_CONFIG: config }), { source: archive, image: `${tokened.host}/team/identity`, tags: 'v1' }));
    assert.equal(tokened.tokenRequests.length, getsBefore, 'no GET to the token service: the token is not a Basic password');
    assert.deepEqual(await tokened.tags('team/identity'), ['v1']);
    assert.ok(main.masks.includes(tokened.refreshToken!));
    const post = tokened.tokenPosts.find((form) => form.get('scope')?.split(' ').includes('repository:team/identity:pull,push'));
    assert.ok(post, `no OAuth2 POST for the repository: ${tokened.tokenPosts.map(String).join('; ')}`);
    assert.equal(post.get('grant_type'), 'refresh_token');
    assert.equal(post.get('refresh_token'), tokened.refreshToken);
    assert.equal(post.get('service'), 'publish-test');
  });

  test('credsStore answering Username "<token>": its Secret is an identity token, as docker\'s native store reads it', async () => {
    const helper = credentialHelper('storeall', { [tokened.host]: { username: '<token>', secret: tokened.refreshToken! } });
    const config = dockerConfig({ credsStore: 'storeall' });
    ok(await publish(job({ DOCKER_CONFIG: config }, [helper.dir]), { source: archive, image: `${tokened.host}/team/store-token`, tags: 'v1' }));
    assert.deepEqual(await tokened.tags('team/store-token'), ['v1']);
    assert.ok(tokened.tokenPosts.some((form) => form.get('grant_type') === 'refresh_token' && form.get('scope')?.includes('team/store-token')));
  });

  test('a refresh token the token service does not know: refused, an error naming the registry; nothing pushed', async () => {
    const config = dockerConfig({ auths: { [tokened.host]: { identitytoken: 'rt-not-issued-here' } } });
    const main = await publish(job({ DOCKER_CONFIG: config }), { source: archive, image: `${tokened.host}/team/bad-token`, tags: 'v1' });
    failed(main, new RegExp(`registry ${tokened.host}: the token service .* answered 400 to the identity token: the identity token was refused`));
    assert.deepEqual(await tokened.tags('team/bad-token'), []);
  });

  test('a helper that hangs: stopped after 30 s, an error naming the helper; nothing pushed', async () => {
    const helper = credentialHelper('stuck', {}, { hang: true });
    const config = dockerConfig({ credHelpers: { [authed.host]: 'stuck' } });
    const started = performance.now();
    const main = await publish(job({ DOCKER_CONFIG: config }, [helper.dir]), { source: archive, image: `${authed.host}/team/stuck`, tags: 'v1' });
    const seconds = (performance.now() - started) / 1000;
    failed(main, new RegExp(`docker-credential-stuck get did not answer within 30 s for ${authed.host}`));
    assert.ok(seconds < 60, `took ${seconds} s`);
    assert.deepEqual(await authed.tags('team/stuck'), []);
  });

  test('a helper miss ("credentials not found in native keychain", exit 1): the 401 error names the registry, the helper and how to log in', async () => {
    const helper = credentialHelper('empty', { 'other.example:5000': { username: 'x', secret: 'y' } });
    const config = dockerConfig({ credsStore: 'empty' });
    const main = await publish(job({ DOCKER_CONFIG: config }, [helper.dir]), { source: archive, image: `${authed.host}/team/miss`, tags: 'v1' });
    failed(main, new RegExp(`registry ${authed.host}: .* answered 401: no credentials were given \\(docker-credential-empty has no credentials for ${authed.host} .*log in before this step \\(docker/login-action with registry: ${authed.host}`));
    assert.deepEqual(await authed.tags('team/miss'), []);
  });

  test('a config that is not JSON: an error naming the file, never its text', async () => {
    const dir = mkdtempSync(join(root, 'docker-config-'));
    writeFileSync(join(dir, 'config.json'), `{"auths": {"${authed.host}": {"auth": "${basic(USER)}"}}, oops`);
    const main = await publish(job({ DOCKER_CONFIG: dir }), { source: archive, image: `${authed.host}/team/broken`, tags: 'v1' });
    const errors = failed(main, new RegExp(`the Docker config ${dir}/config.json is not valid JSON`));
    assert.ok(!main.stdout.includes(basic(USER)) && !errors.includes(basic(USER)));
  });

  test('a helper name with a path in it: refused, nothing run', async () => {
    const config = dockerConfig({ credHelpers: { [authed.host]: '../../../tmp/evil' } });
    const main = await publish(job({ DOCKER_CONFIG: config }), { source: archive, image: `${authed.host}/team/evil`, tags: 'v1' });
    failed(main, /credHelpers\[".*"\] in .* names '\.\.\/\.\.\/\.\.\/tmp\/evil', which is not a credential helper name/);
  });
});

describe('smoke-test pulls a reference by digest with the existing login', () => {
  let fake: string;
  let fakeDigest: string;
  let pulled: string;
  before(async () => {
    fake = fakeVllmImage();
    const main = ok(await publish(job({}), { source: `engine:${fake}`, image: `${authed.host}/team/fake-vllm`, tags: 'candidate', username: USER.name, password: USER.password }));
    fakeDigest = main.outputs.digest!;
    pulled = `${authed.host}/team/fake-vllm@${fakeDigest}`;
  });
  after(() => removeImage(pulled));

  test('not in the engine: pulled from the htpasswd registry with the Docker config\'s credentials (a private DOCKER_CONFIG, gone after), then tested', async () => {
    removeImage(pulled);
    const config = dockerConfig({ auths: { [authed.host]: { auth: basic(USER) } } });
    const j = job({ DOCKER_CONFIG: config, GITHUB_RUN_ID: '7001' });
    const main = await runStep('smoke-test', j, { inputs: { image: pulled, gpu: 'none', requests: '0', port: String(await freePort()) } });
    const post = await runStep('smoke-test', j, { phase: 'post', state: main.state });
    assert.equal(post.exitCode, 0);
    assert.equal(main.exitCode, 0, main.stdout.slice(-3000));
    assert.equal(main.outputs.passed, 'true');
    assert.match(main.stdout, new RegExp(`Credentials for ${authed.host}: user ${USER.name}`));
    assert.deepEqual(main.leakedSecrets, []);
    assert.ok(main.masks.includes(USER.password));
    assert.ok(!unmasked(main).includes(USER.password));
    assert.doesNotThrow(() => sh('docker', ['image', 'inspect', pulled]));
    assert.ok(!existsSync(join(j.temp, 'vllm-rocm-action', 'smoke-test', 'registry-credentials')), 'the private Docker config outlived the pull');
  });

  test('not in the engine and no login for it: docker pull\'s refusal, and how to log in', async () => {
    removeImage(pulled);
    const main = await runStep('smoke-test', job({ DOCKER_CONFIG: dockerConfig({}), GITHUB_RUN_ID: '7002' }), { inputs: { image: pulled, gpu: 'none', requests: '0', port: String(await freePort()) } });
    assert.equal(main.exitCode, 1);
    assert.match(main.errors.join('\n'), new RegExp(`docker pull ${pulled} failed: .*no credentials were given: the Docker config .* has no entry for ${authed.host}: log in before this step`));
  });

  test('a tag-only reference not in the engine: an input error naming image; nothing pulled', async () => {
    const main = await runStep('smoke-test', job({ GITHUB_RUN_ID: '7003' }), { inputs: { image: `${authed.host}/team/fake-vllm:candidate`, gpu: 'none', port: String(await freePort()) } });
    assert.equal(main.exitCode, 1);
    assert.match(main.errors.join('\n'), /Input 'image': '.*:candidate' is not in the local engine, and only a reference by digest \(name@sha256:<64 hex>\) is pulled/);
  });
});

function removeImage(ref: string): void {
  try {
    sh('docker', ['image', 'rm', '--force', ref]);
  } catch {
    // not there
  }
}
