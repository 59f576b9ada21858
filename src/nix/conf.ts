// nix.conf text the suite writes as a drop-in: it never edits the user's own nix.conf.

/** A nix.conf setting name: lower-case words joined by hyphens (e.g. extra-substituters). */
const SETTING_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export interface ConfLineError {
  line: number;
  text: string;
  reason: string;
}

/** Checks user-given nix.conf lines: `name = value`, comments and blank lines; nothing else. */
export function checkConfLines(text: string): ConfLineError | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/^!?include\s/.test(line)) return { line: i + 1, text: line, reason: 'include directives are not allowed here (write the settings themselves)' };
    const eq = line.indexOf('=');
    if (eq < 0) return { line: i + 1, text: line, reason: 'expected "name = value"' };
    const name = line.slice(0, eq).trim();
    if (!SETTING_NAME.test(name)) return { line: i + 1, text: line, reason: `'${name}' is not a setting name` };
  }
  return undefined;
}

export interface DropInSettings {
  substituters: string[];
  trustedPublicKeys: string[];
  /** host=token pairs for `access-tokens`. */
  accessTokens: Array<[string, string]>;
  netrcFile?: string;
  extraConf: string;
}

/** Uses extra-* settings so the user's own substituters and keys stay in force. */
export function renderDropIn(settings: DropInSettings): string {
  const lines = ['# Written by vllm-rocm-action setup-nix for this job.', 'extra-experimental-features = nix-command flakes'];
  if (settings.substituters.length) lines.push(`extra-substituters = ${settings.substituters.join(' ')}`);
  if (settings.trustedPublicKeys.length) lines.push(`extra-trusted-public-keys = ${settings.trustedPublicKeys.join(' ')}`);
  if (settings.accessTokens.length) lines.push(`access-tokens = ${settings.accessTokens.map(([h, t]) => `${h}=${t}`).join(' ')}`);
  if (settings.netrcFile) lines.push(`netrc-file = ${settings.netrcFile}`);
  const extra = settings.extraConf.trim();
  if (extra) lines.push('# extra-conf', extra);
  return `${lines.join('\n')}\n`;
}

/** Warnings Nix prints for settings it does not know ("warning: unknown setting 'foo'"). */
export function unknownSettings(stderr: string): string[] {
  return [...stderr.matchAll(/unknown setting '([^']+)'/g)].map((m) => m[1]!);
}
