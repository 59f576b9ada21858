// Tags from the Git ref, as docker/metadata-action's semver and sha types make them:
// refs/tags/v1.2.3 → 1.2.3, 1.2, 1, latest; a prerelease (v1.3.0-rc.1) → only 1.3.0-rc.1;
// 0.x gets no bare major tag (0 would float across breaking changes); any other ref → sha-<7>.
const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

export function tagsFromRef(ref: string, sha: string): string[] {
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
  return [`sha-${sha.slice(0, 7)}`];
}
