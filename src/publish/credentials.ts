// Files that hold secrets for cosign, each 0600 in a 0700 directory under the run's temp dir
// (RUNNER_TEMP): a docker config with the registry credentials and the cosign private key.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registerSecret } from '../action/secrets.js';
import type { Credentials } from '../registry/client.js';
import { writeDockerConfig } from '../registry/docker-config.js';
import type { PublishInputs } from './inputs.js';

export interface CredentialsDir {
  dir: string;
  /** DOCKER_CONFIG for cosign (unset when there are no credentials). */
  dockerConfig?: string;
  keyFile?: string;
}

/** `credentials` are the inputs' or the existing login's (registryLogin), for inputs.registry. */
export async function writeCredentialsDir(temp: string, inputs: PublishInputs, credentials: Credentials | undefined): Promise<CredentialsDir> {
  const dir = join(temp, 'credentials');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const out: CredentialsDir = { dir };
  if (credentials) out.dockerConfig = await writeDockerConfig(dir, inputs.registry, credentials, registerSecret);
  if (inputs.cosignKey) {
    out.keyFile = join(dir, 'cosign.key');
    await writeFile(out.keyFile, inputs.cosignKey.endsWith('\n') ? inputs.cosignKey : `${inputs.cosignKey}\n`, { mode: 0o600 });
  }
  return out;
}
