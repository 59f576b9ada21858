// What the build stage needs to know of a Dockerfile before building: the names its ARG
// instructions declare (to warn about build args nothing consumes) and its stage names (to
// check `target`). A small reader, not a parser: instructions, line continuations and the
// escape directive; heredoc bodies are skipped.
import { editDistance } from '../tool/edit-distance.js';

export interface DockerfileOutline {
  args: Set<string>;
  /** Stage names (`FROM … AS name`), lower-cased as BuildKit compares them. */
  stages: string[];
}

/** Build args BuildKit and the Dockerfile frontend consume without an ARG instruction. */
export const PREDEFINED_ARGS = new Set([
  'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY',
  'http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'all_proxy',
  'SOURCE_DATE_EPOCH',
  'BUILDKIT_CACHE_MOUNT_NS', 'BUILDKIT_CONTEXT_KEEP_GIT_DIR', 'BUILDKIT_INLINE_CACHE', 'BUILDKIT_MULTI_PLATFORM',
  'BUILDKIT_SANDBOX_HOSTNAME', 'BUILDKIT_SYNTAX', 'BUILDKIT_DOCKERFILE_CHECK',
]);

/** A Dockerfile stage name, as BuildKit accepts it. */
export const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/i;

export function outlineDockerfile(text: string): DockerfileOutline {
  const escape = /^#\s*escape\s*=\s*`/im.test(text.split(/\r?\n/).slice(0, 5).join('\n')) ? '`' : '\\';
  const args = new Set<string>();
  const stages: string[] = [];
  for (const instruction of instructions(text, escape)) {
    const [keyword, ...rest] = instruction.split(/\s+/);
    switch (keyword?.toUpperCase()) {
      case 'ARG':
        for (const word of rest) {
          const name = /^([A-Za-z_][A-Za-z0-9_]*)(=|$)/.exec(word)?.[1];
          if (name) args.add(name);
        }
        break;
      case 'FROM': {
        const as = rest.findIndex((w) => w.toUpperCase() === 'AS');
        if (as >= 0 && rest[as + 1]) stages.push(rest[as + 1]!.toLowerCase());
        break;
      }
    }
  }
  return { args, stages };
}

/** Joined instruction lines: comments and blank lines dropped, continuations folded, heredoc bodies skipped. */
function* instructions(text: string, escape: string): Generator<string> {
  const lines = text.split(/\r?\n/);
  let current = '';
  let heredoc: string | undefined;
  for (const line of lines) {
    if (heredoc !== undefined) {
      if (line.replace(/^\t+/, '') === heredoc) heredoc = undefined;
      continue;
    }
    const trimmed = line.trim();
    if (current === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (current !== '' && trimmed.startsWith('#')) continue; // comments inside a continued instruction
    if (trimmed.endsWith(escape)) {
      current += `${trimmed.slice(0, -1)} `;
      continue;
    }
    const whole = (current + trimmed).trim();
    current = '';
    const marker = /<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?/.exec(whole);
    if (marker && /^(RUN|COPY|ADD)\b/i.test(whole)) heredoc = marker[1];
    yield whole;
  }
  if (current.trim() !== '') yield current.trim();
}

/** The declared name closest to `name` (edit distance ≤ 2), for a "did you mean" hint. */
export function closestName(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of names) {
    const d = editDistance(name.toUpperCase(), candidate.toUpperCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
