// GitHub's guidance for self-hosted runners: never run code from a fork's pull request on them, since
// it runs with the runner's access (the GPU box, its Docker socket, its caches).
import { readFileSync } from 'node:fs';

interface PullRequestEvent {
  pull_request?: { head?: { repo?: { full_name?: string; fork?: boolean } | null }; base?: { repo?: { full_name?: string } } };
}

/** Why this run must be refused, or undefined when it may go ahead. */
export function forkRefusal(env: NodeJS.ProcessEnv, allowForks: boolean): string | undefined {
  if (allowForks || env.RUNNER_ENVIRONMENT !== 'self-hosted') return undefined;
  if (env.GITHUB_EVENT_NAME !== 'pull_request' && env.GITHUB_EVENT_NAME !== 'pull_request_target') return undefined;
  let event: PullRequestEvent;
  try {
    event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8')) as PullRequestEvent;
  } catch {
    return 'the pull_request event payload cannot be read, so a fork cannot be ruled out';
  }
  const head = event.pull_request?.head?.repo;
  const base = event.pull_request?.base?.repo?.full_name;
  // A deleted fork has head.repo null: still a fork.
  if (!head) return 'the pull request comes from a deleted repository (a fork)';
  if (head.fork === true || (base !== undefined && head.full_name !== base)) return `the pull request comes from the fork ${head.full_name ?? '(unknown)'}`;
  return undefined;
}
