// Files that hold secrets for cosign, each 0600 in a 0700 directory under the run's temp dir
// (RUNNER_TEMP): a docker config with the registry credentials and the cosign private key.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registerSecret } from '../action/secrets.js';
import { DOCKER_HUB } from '../registry/reference.js';
import type { PublishInputs } from './inputs.js';

export interface CredentialsDir {
  dir: string;
  /** DOCKER_CONFIG for cosign (unset when there are no credentials). */
  dockerConfig?: string;
  keyFile?: string;
}

export async function writeCredentialsDir(temp: string, inputs: PublishInputs): Promise<CredentialsDir> {
  const dir = join(temp, 'credentials');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const out: CredentialsDir = { dir };
  if (inputs.credentials) {
    const auth = Buffer.from(`${inputs.credentials.username}:${inputs.credentials.password}`).toString('base64');
    registerSecret(auth);
    const key = inputs.registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : inputs.registry;
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [key]: { auth } } }), { mode: 0o600 });
    out.dockerConfig = dir;
  }
  if (inputs.cosignKey) {
    out.keyFile = join(dir, 'cosign.key');
    await writeFile(out.keyFile, inputs.cosignKey.endsWith('\n') ? inputs.cosignKey : `${inputs.cosignKey}\n`, { mode: 0o600 });
  }
  return out;
}
