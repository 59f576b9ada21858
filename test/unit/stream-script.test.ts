// The dockerTools stream script is build output: it runs with a minimal environment, never with
// the job's tokens (ACTIONS_RUNTIME_TOKEN, GITHUB_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN, …).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeImagePath } from '../../src/oci/image-file.js';
import { baseFiles, makeImage, requireTools, scratch, type BuiltImage } from '../fixtures/reproducibility/make-image.js';

let work: string;
let image: BuiltImage;

before(() => {
  requireTools('tar', 'gzip');
  work = scratch('stream-script-');
  image = makeImage(work, { layers: [{ files: baseFiles() }] });
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the stream script sees PATH/HOME/TMPDIR and none of the job\'s tokens', async () => {
  const envFile = join(work, 'env.txt');
  const script = join(work, 'stream-image');
  // Like streamLayeredImage's script: writes the image to stdout (here it also records its environment).
  writeFileSync(script, `#!/bin/sh\nenv > '${envFile}'\nexec cat '${image.archive}'\n`);
  chmodSync(script, 0o755);
  const secrets = {
    ACTIONS_RUNTIME_TOKEN: 'runtime-token-x1',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token-x2',
    ACTIONS_CACHE_URL: 'https://cache.example/x3',
    ACTIONS_RESULTS_URL: 'https://results.example/x4',
    GITHUB_TOKEN: 'ghs_x5',
    AWS_SECRET_ACCESS_KEY: 'aws-x6',
    INPUT_SIGNING_KEY: 'key-x7',
  };
  const saved = { ...process.env };
  Object.assign(process.env, secrets);
  try {
    const described = await describeImagePath(script, join(work, 'streamed.tar'));
    assert.equal(described.digest, image.manifestDigest);
    assert.equal(described.streamedFrom, script);
  } finally {
    for (const name of Object.keys(secrets)) delete process.env[name];
    Object.assign(process.env, saved);
  }
  const seen = readFileSync(envFile, 'utf8');
  for (const [name, value] of Object.entries(secrets)) {
    assert.doesNotMatch(seen, new RegExp(`^${name}=`, 'm'), `${name} reached the stream script`);
    assert.ok(!seen.includes(value), `${name}'s value reached the stream script`);
  }
  assert.doesNotMatch(seen, /^(ACTIONS_|GITHUB_|RUNNER_)/m);
  assert.match(seen, /^PATH=/m);
  assert.match(seen, /^TMPDIR=/m);
  assert.match(seen, /^HOME=/m);
});
