// push-to: `nix copy --to` the signed closure. Credentials in the URL (http://user:pass@host/)
// are masked before anything runs, moved into a netrc file (so they are not in nix's argv, where
// `ps` shows them), and cut out of every line nix prints.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../action/inputs.js';
import { registerSecret } from '../action/secrets.js';
import { errorMessage } from '../action/stage.js';
import { NixCli, NixCommandError, redactUrl } from '../nix/cli.js';
import { logTail } from '../nix/output.js';

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The secret parts of a push-to URL's userinfo, raw and percent-decoded; a bare ssh user is not one. */
export function pushToSecrets(pushTo: string): string[] {
  const match = USERINFO.exec(pushTo);
  if (!match) return [];
  const userinfo = match[2]!;
  const colon = userinfo.indexOf(':');
  const parts = colon >= 0 ? [userinfo, userinfo.slice(colon + 1)] : /^https?:/i.test(match[1]!) ? [userinfo] : [];
  return [...new Set(parts.flatMap((p) => [p, decoded(p)]).filter((p) => p.length > 0))];
}

/** Masks push-to's credentials with the runner; call before anything could print the input. */
export function maskPushTo(pushTo: string | undefined): void {
  for (const secret of pushTo ? pushToSecrets(pushTo) : []) registerSecret(secret);
}

/** `text` with the secrets and any URL userinfo replaced by ***. */
export function redactLine(text: string, secrets: string[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s'"@]+@/gi, '$1***@');
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}

interface PushTarget {
  url: string;
  netrc?: string;
}

/** An http(s) URL's credentials go into a netrc entry for its host; other schemes keep theirs. */
export function pushTarget(pushTo: string): PushTarget {
  const url = new URL(pushTo);
  if (!/^https?:$/.test(url.protocol) || (!url.username && !url.password)) return { url: pushTo };
  const login = decoded(url.username);
  const password = decoded(url.password);
  if (/[\s"]/.test(login + password)) throw new InputError('push-to', 'credentials with spaces or quotes cannot be passed safely; put them in a netrc file instead (see the README)');
  url.username = '';
  url.password = '';
  return { url: url.toString(), netrc: `machine ${url.hostname} login ${login} password ${password}\n` };
}

/** A failed push is a warning: the image is built, the cache is an optimisation. Returns where it went. */
export async function push(nix: NixCli, pushTo: string, outPath: string, tempDir: string): Promise<string> {
  const secrets = pushToSecrets(pushTo);
  const target = pushTarget(pushTo);
  const where = redactUrl(target.url);
  const netrcDir = target.netrc ? await mkdtemp(join(tempDir, 'push-netrc-')) : undefined;
  try {
    const options: string[] = [];
    if (netrcDir && target.netrc) {
      const netrc = join(netrcDir, 'netrc');
      await writeFile(netrc, target.netrc, { mode: 0o600 });
      await chmod(netrc, 0o600);
      options.push('--option', 'netrc-file', netrc);
    }
    await nix.copyTo(target.url, [outPath], (line) => logInfo(redactLine(line, secrets)), options);
    return where;
  } catch (error) {
    const detail = error instanceof NixCommandError ? logTail(error.stderr, 5) : errorMessage(error);
    core.warning(`Pushing to ${where} failed: ${redactLine(detail, secrets)}`);
    return '';
  } finally {
    if (netrcDir) await rm(netrcDir, { recursive: true, force: true });
  }
}
