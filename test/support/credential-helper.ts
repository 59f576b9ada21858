// A docker-credential-<name> stand-in that speaks the real protocol: `get` reads the server URL on
// stdin, answers {"ServerURL","Username","Secret"} on stdout with exit 0, or on a miss prints
// "credentials not found in native keychain" on stdout and exits 1 (docker-credential-helpers
// credentials/credentials.go, Serve and Get; credentials/error.go). Each server URL it is asked
// for is appended to a log, so a test sees which key was looked up.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CredentialHelper {
  /** The directory to put on PATH. */
  dir: string;
  /** The server URLs it was asked for, one a line. */
  log: string;
}

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * `entries` maps a server URL to its username and secret (Username '<token>' for an identity
 * token); `hang` makes `get` never answer (a helper stuck on a network call).
 */
export function credentialHelper(name: string, entries: Record<string, { username: string; secret: string }>, opts: { hang?: boolean } = {}): CredentialHelper {
  const dir = mkdtempSync(join(tmpdir(), 'h-credential-helper-'));
  mkdirSync(dir, { recursive: true });
  const log = join(dir, 'asked.log');
  const cases = Object.entries(entries)
    .map(([url, { username, secret }]) => `  ${shellQuote(url)}) printf '%s\\n' ${shellQuote(JSON.stringify({ ServerURL: url, Username: username, Secret: secret }))}; exit 0 ;;`)
    .join('\n');
  const script = `#!/bin/sh
# get: the server URL on stdin (no newline needed), trimmed as the helpers' Get does.
[ "$1" = get ] || { echo "Usage: docker-credential-${name} <store|get|erase|list|version>"; exit 1; }
url=$(cat | tr -d '\\r\\n' | sed 's/^[[:space:]]*//;s/[[:space:]]*$//')
[ -n "$url" ] || { echo "no credentials server URL"; exit 1; }
printf '%s\\n' "$url" >> ${shellQuote(log)}
${opts.hang ? 'exec sleep 600' : ''}
case "$url" in
${cases}
esac
echo "credentials not found in native keychain"
exit 1
`;
  const path = join(dir, `docker-credential-${name}`);
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  writeFileSync(log, '');
  return { dir, log };
}
