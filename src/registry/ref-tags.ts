// Tags from the Git ref, as docker/metadata-action's semver and sha types make them:
// refs/tags/v1.2.3 → 1.2.3, 1.2, 1, latest; a prerelease (v1.3.0-rc.1) → only 1.3.0-rc.1;
// 0.x gets no bare major tag (0 would float across breaking changes); any other ref → sha-<short>.
//
// The flavor (prefix, suffix) follows metadata-action's src/meta.ts (setValue, generateTags) with
// one difference: metadata-action adds them to `latest` only with `onlatest=true`
// (src/flavor.ts), this suite always does. A GPU matrix publishes one image per gfx target from one
// ref; a bare `latest` from every leg would be a race that the last leg to finish wins, naming
// some other variant's image. So tag-suffix: -gfx942 gives latest-gfx942.
const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

export interface TagFlavor {
  prefix: string;
  suffix: string;
  /** Length of the sha-<short> tag (metadata-action's default: 7; the whole sha when longer). */
  shaLength: number;
}

export const DEFAULT_FLAVOR: TagFlavor = { prefix: '', suffix: '', shaLength: 7 };

/** The tags before the flavor: the version tags first, so the first one is the version. */
function plainTags(ref: string, sha: string, shaLength: number): string[] {
  const tagName = ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
  if (tagName !== undefined) {
    const m = SEMVER.exec(tagName);
    if (m) {
      const [, major, minor, patch, prerelease] = m;
      const version = `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}`;
      if (prerelease) return [version];
      const tags = [version, `${major}.${minor}`];
      if (major !== '0') tags.push(major!);
      tags.push('latest');
      return tags;
    }
  }
  if (!/^[0-9a-f]{7,64}$/.test(sha)) throw new Error(`GITHUB_SHA '${sha}' is not a commit id`);
  return [`sha-${sha.slice(0, shaLength)}`];
}

export function tagsFromRef(ref: string, sha: string, flavor: TagFlavor = DEFAULT_FLAVOR): string[] {
  return plainTags(ref, sha, flavor.shaLength).map((tag) => `${flavor.prefix}${tag}${flavor.suffix}`);
}

/**
 * The image's version as tag-from-ref derives it, without a flavor: 1.2.3 for refs/tags/v1.2.3,
 * sha-<7> for any other ref. The build stages label images before any tag exists, so a variant's
 * suffix is not part of it (metadata-action's version label is its first tag, flavor included).
 */
export function versionFromRef(ref: string, sha: string): string {
  return plainTags(ref, sha, DEFAULT_FLAVOR.shaLength)[0]!;
}
