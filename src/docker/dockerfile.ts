// What the build stage needs to know of a Dockerfile before building: the names its ARG
// instructions declare (to warn about build args nothing consumes) and its stage names (to
// check `target`) and the cache mounts its RUN steps use (for `cache-mounts`). A small reader,
// not a parser: instructions, line continuations and the escape directive; heredoc bodies are skipped.
import { editDistance } from '../tool/edit-distance.js';

export interface DockerfileOutline {
  args: Set<string>;
  /** Stage names (`FROM … AS name`), lower-cased as BuildKit compares them. */
  stages: string[];
  /** `RUN --mount=type=cache,…` flags, in order. */
  cacheMounts: CacheMountUse[];
  /** Every FROM in order: its image (as written, `$ARG`s and all) and its stage name. */
  froms: Array<{ image: string; name?: string }>;
  /** ARGs before the first FROM (the only ones a FROM line can use), with their defaults. */
  globalArgs: Map<string, string | undefined>;
}

/**
 * One RUN cache mount. BuildKit keys the mount by `id`, which defaults to `target`
 * (moby/buildkit frontend/dockerfile/instructions/commands_runmount.go); uid, gid and mode make
 * the frontend create the mount from a scratch directory of that owner, so a helper build
 * reaches the same mount only with the same three.
 */
export interface CacheMountUse {
  id: string;
  target: string;
  uid?: string;
  gid?: string;
  mode?: string;
  /** `from=`: the mount is keyed by that stage's result too. */
  from?: string;
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
  const cacheMounts: CacheMountUse[] = [];
  const froms: DockerfileOutline['froms'] = [];
  const globalArgs = new Map<string, string | undefined>();
  for (const instruction of instructions(text, escape)) {
    const [keyword, ...rest] = instruction.split(/\s+/);
    switch (keyword?.toUpperCase()) {
      case 'ARG':
        for (const word of rest) {
          const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(word);
          if (!match) continue;
          args.add(match[1]!);
          if (froms.length === 0) globalArgs.set(match[1]!, match[2]?.replace(/^(["'])(.*)\1$/, '$2'));
        }
        break;
      case 'FROM': {
        const words = rest.filter((w) => !w.startsWith('--'));
        const as = words.findIndex((w) => w.toUpperCase() === 'AS');
        const name = as >= 0 ? words[as + 1]?.toLowerCase() : undefined;
        if (name) stages.push(name);
        if (words[0]) froms.push({ image: words[0], ...(name ? { name } : {}) });
        break;
      }
      case 'RUN':
        for (const word of rest) {
          if (!word.startsWith('--')) break;
          const mount = /^--mount=(.*)$/.exec(word)?.[1];
          const use = mount === undefined ? undefined : cacheMountUse(mount);
          if (use) cacheMounts.push(use);
        }
        break;
    }
  }
  return { args, stages, cacheMounts, froms, globalArgs };
}

/** A `--mount=` value (comma-separated key=value) when its type is cache; undefined otherwise. */
function cacheMountUse(value: string): CacheMountUse | undefined {
  const fields = new Map<string, string>();
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    fields.set(key, eq < 0 ? '' : field.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
  }
  if (fields.get('type') !== 'cache') return undefined;
  // BuildKit's names for the target (commands_runmount.go): target, dst, destination.
  const target = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
  if (!target) return undefined;
  return { id: fields.get('id') || target, target, uid: fields.get('uid'), gid: fields.get('gid'), mode: fields.get('mode'), from: fields.get('from') };
}

/**
 * The image the built stage (`target`, else the last) starts from, following `FROM <stage>` back
 * to an image: `scratch`, a reference with its `$ARG`s filled in (build args over the global
 * ARGs' defaults), or `unresolved` where an ARG has no value.
 */
export function baseImageOf(outline: DockerfileOutline, buildArgs: Array<[string, string]>, target?: string): { image: string } | { unresolved: string } | undefined {
  const values = new Map(outline.globalArgs);
  for (const [name, value] of buildArgs) if (values.has(name)) values.set(name, value);
  let index = target ? outline.froms.findIndex((f) => f.name === target.toLowerCase()) : outline.froms.length - 1;
  for (let hops = 0; index >= 0 && hops <= outline.froms.length; hops++) {
    const written = outline.froms[index]!.image;
    let missing: string | undefined;
    const image = written.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced: string | undefined, bare: string | undefined) => {
      const value = values.get((braced ?? bare)!);
      if (value === undefined) missing = braced ?? bare;
      return value ?? '';
    });
    if (missing !== undefined || /\$\{/.test(image)) return { unresolved: written };
    // A stage defined before this FROM is the base's base.
    const stage = outline.froms.slice(0, index).findLastIndex((f) => f.name === image.toLowerCase());
    if (stage < 0) return { image };
    index = stage;
  }
  return undefined;
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
