// Secrets of a build: `secrets`/`secret-envs`/`secret-files` go to BuildKit's --secret (values in
// the buildx process's environment, never in argv), and build args whose names look like secrets
// are masked, warned about and redacted from the logged command.
import { registerSecret } from '../action/secrets.js';
import type { BuildSecret } from '../docker/buildx-args.js';
import type { BuildDockerInputs } from './inputs.js';

// A name segment (split on _ or -) that is, or ends with, one of these words.
const SECRET_WORD = /(TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIALS?|AUTH)$/i;
// Masking a very short value would hide that text everywhere in the log.
const MIN_MASKED_LENGTH = 4;

export function looksLikeSecret(name: string): boolean {
  return name.split(/[_-]/).some((part) => SECRET_WORD.test(part));
}

/** Masks every secret value the inputs carry. Call right after parsing, before anything is logged. */
export function maskSecrets(inputs: Pick<BuildDockerInputs, 'secrets' | 'buildArgs'>): void {
  const mask = (value: string): void => {
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= MIN_MASKED_LENGTH) registerSecret(line.trim());
  };
  for (const secret of inputs.secrets) {
    if ('value' in secret) mask(secret.value);
    else if ('env' in secret) mask(process.env[secret.env] ?? '');
  }
  for (const [name, value] of inputs.buildArgs) if (looksLikeSecret(name)) mask(value);
}

/** Build args that look like secrets: they end up in the image's history, which anyone who pulls it reads. */
export function secretLikeBuildArgs(inputs: Pick<BuildDockerInputs, 'buildArgs'>): string[] {
  return inputs.buildArgs.map(([name]) => name).filter(looksLikeSecret);
}

/** The --secret specs and the environment that carries the values given inline. */
export function buildSecrets(inputs: Pick<BuildDockerInputs, 'secrets'>): { secrets: BuildSecret[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const secrets = inputs.secrets.map((secret, i): BuildSecret => {
    if ('value' in secret) {
      const name = `VLLM_ROCM_ACTION_SECRET_${i}`;
      env[name] = secret.value;
      return { id: secret.id, env: name };
    }
    return 'env' in secret ? { id: secret.id, env: secret.env } : { id: secret.id, src: secret.file };
  });
  return { secrets, env };
}

/** The command as logged: values of secret-like build args replaced by ***. */
export function redactCommand(args: string[]): string {
  return args
    .map((arg, i) => {
      if (args[i - 1] !== '--build-arg') return arg;
      const eq = arg.indexOf('=');
      return eq > 0 && looksLikeSecret(arg.slice(0, eq)) ? `${arg.slice(0, eq)}=***` : arg;
    })
    .join(' ');
}
