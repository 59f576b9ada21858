// Registry credentials from a login that already exists (docker login, docker/login-action and
// its ECR/GAR helpers): the Docker config file, its `auths`, `credHelpers` and `credsStore`, read
// the way the docker CLI reads them, and the private config this suite hands to docker and cosign.
// Every secret found is passed to onSecret (the caller masks it) before anything else is done.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from './client.js';

export class DockerConfigError extends Error {}

/** The key docker keeps Docker Hub's credentials under (docker/cli cli/config/configfile/file.go, getAuthConfigKey). */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** docker-credential-helpers credentials/error.go, errCredentialsNotFoundMessage: a helper's answer on a miss (stdout, exit 1). */
export const HELPER_NOT_FOUND = 'credentials not found in native keychain';

/** A helper's username meaning "Secret is an identity token" (docker/cli cli/config/credentials/native_store.go, tokenUsername). */
const TOKEN_USERNAME = '<token>';

export const HELPER_TIMEOUT_MS = 30_000;
const HELPER_OUTPUT_LIMIT = 1 << 20;

export interface CredentialLookup {
  credentials?: Credentials;
  /** Where the credentials came from, or where they were looked for: for the log, never a secret. */
  source: string;
  /** Why there are none (the hint an anonymous 401 gets); undefined when credentials were found. */
  missing?: string;
}

export interface LookupOptions {
  env?: NodeJS.ProcessEnv;
  onSecret: (secret: string) => void;
  helperTimeoutMs?: number;
}

/**
 * The config key for a registry host, as docker/cli's getAuthConfigKey makes it: Docker Hub's
 * legacy index URL for docker.io and index.docker.io, hostname[:port] for every other registry.
 */
export function authConfigKey(host: string): string {
  const lower = host.toLowerCase();
  return lower === 'docker.io' || lower === 'index.docker.io' ? DOCKER_HUB_AUTH_KEY : lower;
}

/** A legacy key with a scheme and path, reduced to hostname[:port] (docker/cli cli/config/credentials/file_store.go, ConvertToHostname). */
export function convertToHostname(key: string): string {
  let rest = key;
  const scheme = rest.indexOf('://');
  if (scheme !== -1) rest = rest.slice(scheme + 3);
  return rest.split('/')[0]!;
}

/** DOCKER_CONFIG/config.json, else ~/.docker/config.json (docker/cli cli/config/config.go, Dir). */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, unknown>;
  credsStore?: unknown;
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function howToLogIn(host: string): string {
  return `log in before this step (docker/login-action with registry: ${host}, or docker login ${host}), or give username and password`;
}

/** The credentials docker would use for a registry host, from the Docker config (none when there is no config). */
export async function lookupCredentials(host: string, opts: LookupOptions): Promise<CredentialLookup> {
  const file = dockerConfigFile(opts.env);
  const key = authConfigKey(host);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { source: `no Docker config at ${file}`, missing: `there is no Docker config at ${file}: ${howToLogIn(host)}` };
    throw new DockerConfigError(`the Docker config ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let config: ConfigFile;
  try {
    config = JSON.parse(text) as ConfigFile;
  } catch {
    // Not the parser's message: it quotes the text, which holds secrets.
    throw new DockerConfigError(`the Docker config ${file} is not valid JSON`);
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new DockerConfigError(`the Docker config ${file} is not a JSON object`);

  // credHelpers for this key, else credsStore (docker/cli configfile/file.go, getConfiguredCredentialStore).
  const helpers = isRecord(config.credHelpers) ? config.credHelpers : {};
  const helper = Object.hasOwn(helpers, key) ? helpers[key] : config.credsStore;
  if (typeof helper === 'string' && helper !== '') {
    const which = Object.hasOwn(helpers, key) ? `credHelpers["${key}"]` : 'credsStore';
    if (!HELPER_NAME.test(helper)) throw new DockerConfigError(`${which} in ${file} names '${helper}', which is not a credential helper name (letters, digits, '.', '_', '-')`);
    return fromHelper(helper, key, host, `docker-credential-${helper} (${which} in ${file})`, opts);
  }

  const auths = isRecord(config.auths) ? config.auths : {};
  // The exact key, else a legacy key with a scheme or path (docker/cli credentials/file_store.go, fileStore.Get).
  const found = Object.hasOwn(auths, key) ? key : Object.keys(auths).find((k) => convertToHostname(k) === key);
  if (found === undefined) return { source: `${file} (no entry for ${key})`, missing: `the Docker config ${file} has no entry for ${key}: ${howToLogIn(host)}` };
  const credentials = fromAuthEntry(auths[found], `auths["${found}"] in ${file}`, opts.onSecret);
  if (!credentials) return { source: `auths["${found}"] in ${file} (empty)`, missing: `auths["${found}"] in ${file} holds no credentials: ${howToLogIn(host)}` };
  return { credentials, source: `auths["${found}"] in ${file}` };
}

function isRecord(value: unknown): value is Record<string, never> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An auths entry: base64 `auth` (user:password), or `username`/`password`, and/or `identitytoken` (docker/cli configfile/file.go, LoadFromReader and decodeAuth). */
function fromAuthEntry(entry: unknown, where: string, onSecret: (secret: string) => void): Credentials | undefined {
  if (!isRecord(entry)) throw new DockerConfigError(`${where} is not an object`);
  const e = entry as AuthEntry;
  for (const field of ['auth', 'username', 'password', 'identitytoken'] as const) {
    if (e[field] !== undefined && typeof e[field] !== 'string') throw new DockerConfigError(`${where}: ${field} is not a string`);
  }
  const auth = (e.auth as string | undefined) ?? '';
  const token = (e.identitytoken as string | undefined) ?? '';
  let username = (e.username as string | undefined) ?? '';
  let password = (e.password as string | undefined) ?? '';
  for (const secret of [auth, password, token]) if (secret) onSecret(secret);
  if (auth) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(auth)) throw new DockerConfigError(`${where}: auth is not base64`);
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new DockerConfigError(`${where}: auth is not base64 of user:password`);
    username = decoded.slice(0, colon);
    // docker trims NULs from the password (decodeAuth).
    password = decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '');
    if (password) onSecret(password);
  }
  if (token) return { username, password, identityToken: token };
  if (!username && !password) return undefined;
  return { username, password };
}

/**
 * `docker-credential-<name> get` with the key on stdin; {ServerURL, Username, Secret} on stdout, or
 * HELPER_NOT_FOUND on stdout with exit 1 on a miss (docker-credential-helpers client/client.go, Get).
 * Its output is never logged: an error names the helper and its exit status only.
 */
async function fromHelper(helper: string, key: string, host: string, source: string, opts: LookupOptions): Promise<CredentialLookup> {
  const program = `docker-credential-${helper}`;
  const timeoutMs = opts.helperTimeoutMs ?? HELPER_TIMEOUT_MS;
  const result = await runHelper(program, key, timeoutMs, opts.env ?? process.env);
  if (result.error) throw new DockerConfigError(`${source}: ${result.error}`);
  if (result.timedOut) throw new DockerConfigError(`${program} get did not answer within ${timeoutMs / 1000} s for ${key} (${source}): it was stopped`);
  if (result.exitCode !== 0) {
    if (result.stdout.trim() === HELPER_NOT_FOUND) {
      return { source, missing: `${program} has no credentials for ${key} (${source}): ${howToLogIn(host)}` };
    }
    throw new DockerConfigError(`${program} get failed for ${key} (exit ${result.exitCode}; its output is not shown, it may hold secrets)`);
  }
  let answer: { ServerURL?: unknown; Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(result.stdout) as typeof answer;
  } catch {
    throw new DockerConfigError(`${program} get answered with something that is not the credentials JSON for ${key} (its output is not shown)`);
  }
  if (!isRecord(answer) || typeof answer.Secret !== 'string' || (answer.Username !== undefined && typeof answer.Username !== 'string')) {
    throw new DockerConfigError(`${program} get answered JSON without a string Secret for ${key} (its output is not shown)`);
  }
  const secret = answer.Secret;
  if (secret) opts.onSecret(secret);
  const username = (answer.Username as string | undefined) ?? '';
  if (!secret) return { source, missing: `${program} gave an empty secret for ${key} (${source}): ${howToLogIn(host)}` };
  const credentials: Credentials = username === TOKEN_USERNAME ? { username: '', password: '', identityToken: secret } : { username, password: secret };
  return { credentials, source };
}

interface HelperResult {
  exitCode: number | null;
  stdout: string;
  timedOut: boolean;
  error?: string;
}

function runHelper(program: string, key: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<HelperResult> {
  return new Promise((resolve) => {
    // Its own process group, so a timeout stops whatever it started too; stderr is dropped, unread.
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: HelperResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(result);
    };
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      stop();
      finish({ exitCode: null, stdout: '', timedOut: true });
    }, timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish({ exitCode: null, stdout: '', timedOut: false, error: error.code === 'ENOENT' ? `${program} is not on PATH` : `${program} could not be run (${error.code ?? 'error'})` });
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > HELPER_OUTPUT_LIMIT) {
        stop();
        finish({ exitCode: null, stdout: '', timedOut: false, error: `${program} get wrote more than ${HELPER_OUTPUT_LIMIT} bytes: stopped` });
      } else chunks.push(chunk);
    });
    child.on('close', (code) => finish({ exitCode: code, stdout: Buffer.concat(chunks).toString('utf8'), timedOut: false }));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(key);
  });
}

/**
 * A private Docker config (0600 config.json in a 0700 directory) holding one registry's
 * credentials, in the form docker and cosign read: base64 `auth`, or `identitytoken` (both
 * exchange it at the token endpoint). Returns the directory, for DOCKER_CONFIG.
 */
export async function writeDockerConfig(dir: string, host: string, credentials: Credentials, onSecret: (secret: string) => void): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let entry: Record<string, string>;
  if (credentials.identityToken) {
    entry = { identitytoken: credentials.identityToken };
    if (credentials.username) entry.username = credentials.username;
  } else {
    entry = { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') };
    onSecret(entry.auth!);
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [authConfigKey(host)]: entry } }), { mode: 0o600 });
  return dir;
}
