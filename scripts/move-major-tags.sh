#!/usr/bin/env bash
# Moves this suite's floating tags after a release tag vX.Y.Z is pushed: vX.Y to the release, and
# vX too unless a newer vX.* release already exists (a patch of an older minor never drags vX
# back). A pre-release (vX.Y.Z-rc.1) moves nothing. The release must be on main or on a
# release/vX.Y maintenance branch of the remote, so a tag pushed on a stray branch cannot become
# what every `@vX` user runs. Usage: move-major-tags.sh vX.Y.Z [remote]   (remote: origin)
set -euo pipefail

tag=${1:-}
remote=${2:-origin}
die() { printf 'move-major-tags: %s\n' "$*" >&2; exit 1; }
semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$'

if [[ $tag =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)-[0-9A-Za-z.-]+$ ]]; then
  echo "move-major-tags: $tag is a pre-release: the floating tags stay where they are"
  exit 0
fi
[[ $tag =~ $semver ]] || die "'$tag' is not a release tag: expected vMAJOR.MINOR.PATCH (e.g. v1.2.3), or a pre-release vMAJOR.MINOR.PATCH-SUFFIX"
major=${BASH_REMATCH[1]}
minor=${BASH_REMATCH[2]}

commit=$(git rev-parse --verify --quiet "refs/tags/$tag^{commit}") || die "tag $tag does not exist in this clone (fetch tags first)"
git fetch --quiet --tags --force "$remote" "+refs/heads/*:refs/remotes/$remote/*"
on_branch=
for branch in "$remote/main" "$remote/release/v$major.$minor"; do
  if git rev-parse --verify --quiet "refs/remotes/$branch" >/dev/null && git merge-base --is-ancestor "$commit" "refs/remotes/$branch"; then
    on_branch=$branch
    break
  fi
done
[ -n "$on_branch" ] || die "$tag ($commit) is on neither $remote/main nor $remote/release/v$major.$minor: refusing to move v$major or v$major.$minor to it"

# The newest release of a series: strict vX.Y.Z tags only, compared as versions.
newest() { git tag --list "$1" | grep -E "$semver" | sort -V | tail -n 1; }

move() {
  git tag --force --annotate "$1" --message "$1 -> $tag" "$commit" >/dev/null
  git push --quiet --force "$remote" "refs/tags/$1"
  echo "move-major-tags: $1 -> $tag ($commit)"
}

if [ "$(newest "v$major.$minor.*")" = "$tag" ]; then move "v$major.$minor"; else echo "move-major-tags: v$major.$minor stays: $(newest "v$major.$minor.*") is newer than $tag"; fi
if [ "$(newest "v$major.*.*")" = "$tag" ]; then move "v$major"; else echo "move-major-tags: v$major stays: $(newest "v$major.*.*") is newer than $tag"; fi
