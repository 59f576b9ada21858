// Registry credentials for a stage: the username/password inputs when given, else the login that
// already exists in the Docker config (docker/login-action, docker login, credential helpers).
// Every secret is masked before anything is printed; the log names only where they came from.
import type { Credentials } from '../registry/client.js';
import { DockerConfigError, lookupCredentials } from '../registry/docker-config.js';
import { logInfo } from './log.js';
import { registerSecret } from './secrets.js';
import { StageFailure } from './stage.js';

export interface RegistryLogin {
  credentials?: Credentials;
  /** Why there are none, for the refusal a registry's 401 gets. */
  missing?: string;
}

export async function registryLogin(host: string, given?: Credentials): Promise<RegistryLogin> {
  if (given) return { credentials: given };
  let found;
  try {
    found = await lookupCredentials(host, { onSecret: registerSecret });
  } catch (error) {
    if (error instanceof DockerConfigError) throw new StageFailure('Registry login unreadable', `credentials for ${host}: ${error.message}`);
    throw error;
  }
  if (found.credentials) {
    const who = found.credentials.identityToken ? 'an identity token' : `user ${found.credentials.username}`;
    logInfo(`Credentials for ${host}: ${who}, from ${found.source}`);
  } else {
    logInfo(`No credentials for ${host}: ${found.source}`);
  }
  return { credentials: found.credentials, missing: found.missing };
}
