// The OCI labels and annotations generated from the repository, the commit, the ref and the
// image's creation time, as docker/metadata-action's getOCIAnnotationsWithCustoms makes them
// (docker/metadata-action src/meta.ts): title, url, source, version, created, revision, sorted by
// key, with the user's KEY=VALUE lines overriding. Where this suite differs, and why:
//   - created is the build's SOURCE_DATE_EPOCH, not the time of the run (metadata-action's `date`):
//     a wall-clock label would give every build its own digest;
//   - description and licenses are not generated: metadata-action asks the GitHub API for them, and
//     a build makes no network call of its own (set them through labels / annotations);
//   - version has no tag-prefix/tag-suffix: see versionFromRef;
//   - a value the environment does not give (a local run) is left out rather than written empty.
import { versionFromRef } from '../registry/ref-tags.js';

export interface CommitContext {
  serverUrl?: string;
  repository?: string;
  sha?: string;
  ref?: string;
}

export function commitContextFromEnv(env: NodeJS.ProcessEnv): CommitContext {
  return { serverUrl: env.GITHUB_SERVER_URL, repository: env.GITHUB_REPOSITORY, sha: env.GITHUB_SHA, ref: env.GITHUB_REF };
}

// owner/name as GitHub allows them; a name of dots only would make the URL climb a level.
const REPOSITORY = /^(?!\.+\/)[A-Za-z0-9_.-]+\/(?!\.+$)[A-Za-z0-9_.-]+$/;
const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** https://github.com/<owner>/<name>, or undefined when the environment does not name a repository plainly. */
export function repositoryUrl(context: CommitContext): string | undefined {
  if (!context.repository || !REPOSITORY.test(context.repository)) return undefined;
  let server: URL;
  try {
    server = new URL(context.serverUrl || 'https://github.com');
  } catch {
    return undefined;
  }
  if ((server.protocol !== 'https:' && server.protocol !== 'http:') || server.username || server.password || server.search || server.hash) return undefined;
  return `${server.origin}${server.pathname.replace(/\/+$/, '')}/${context.repository}`;
}

/** The generated pairs, sorted by key; `created` is the image's creation time (SOURCE_DATE_EPOCH). */
export function generatedOciMetadata(context: CommitContext, created: Date | undefined): Array<[string, string]> {
  const pairs: Record<string, string | undefined> = {};
  const url = repositoryUrl(context);
  if (url) {
    pairs['org.opencontainers.image.title'] = context.repository!.split('/')[1];
    pairs['org.opencontainers.image.url'] = url;
    pairs['org.opencontainers.image.source'] = url;
  }
  if (context.sha && COMMIT.test(context.sha)) pairs['org.opencontainers.image.revision'] = context.sha;
  if (context.ref && context.sha) {
    try {
      pairs['org.opencontainers.image.version'] = versionFromRef(context.ref, context.sha);
    } catch {
      // No semver tag and no commit id: no version.
    }
  }
  if (created && !Number.isNaN(created.getTime())) pairs['org.opencontainers.image.created'] = created.toISOString();
  return Object.entries(pairs)
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The generated pairs with the user's lines over them (same key: the user's value, in the generated place). */
export function withOverrides(generated: Array<[string, string]>, overrides: Array<[string, string]>): Array<[string, string]> {
  const merged = new Map(generated);
  for (const [key, value] of overrides) merged.set(key, value);
  return [...merged];
}
