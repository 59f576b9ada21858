// An image reference the local engine does not have: pulled by digest only (a tag could name
// another image by the time the test runs), with the registry login publish uses (the Docker
// config's, helpers included) handed to docker as a private DOCKER_CONFIG that is removed
// right after the pull (and by post, should main be killed mid-pull).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import { InputError } from '../action/inputs.js';
import { stageTempDir } from '../action/paths.js';
import { registryLogin } from '../action/registry-login.js';
import { registerSecret } from '../action/secrets.js';
import { dockerPull } from '../docker/pull.js';
import { writeDockerConfig } from '../registry/docker-config.js';
import { parseReference, ReferenceError } from '../registry/reference.js';

const PULL_TIMEOUT_MS = 60 * 60_000;

/** The private Docker config's directory (post removes it). */
export function pullCredentialsDir(): string {
  return join(stageTempDir('smoke-test'), 'registry-credentials');
}

/** Pulls `image` (name@sha256:…) into the local engine; a tag-only reference is an input error. */
export async function pullByDigest(image: string): Promise<void> {
  let host: string;
  try {
    const ref = parseReference(image);
    if (!ref.digest) throw new ReferenceError(`'${image}' has no digest`);
    host = ref.host;
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new InputError('image', `'${image}' is not in the local engine, and only a reference by digest (name@sha256:<64 hex>) is pulled: ${error.message}`);
  }
  const login = await registryLogin(host);
  const dir = pullCredentialsDir();
  try {
    const dockerConfig = login.credentials ? await writeDockerConfig(dir, host, login.credentials, registerSecret) : undefined;
    await core.group(`Pulling ${image}`, () => dockerPull(image, { dockerConfig, timeoutMs: PULL_TIMEOUT_MS }));
  } catch (error) {
    if (login.missing && !login.credentials) throw new Error(`${(error as Error).message} (no credentials were given: ${login.missing})`, { cause: error });
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
