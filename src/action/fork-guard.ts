// GitHub's guidance for self-hosted runners: never run code from a fork on them, since it runs with
// the runner's access (the GPU box, its Docker socket and Nix store, their caches). The guard fails
// closed: a runner counts as self-hosted unless the runner says it is GitHub-hosted, and an event
// whose head cannot be told from its payload is refused like a fork's.
import { readFileSync } from 'node:fs';
import { StageFailure } from './stage.js';

/** The input that lets a run go ahead anyway (on a disposable runner). */
export const ALLOW_FORKS_INPUT = 'allow-fork-pull-requests';

// Events whose workflow runs the repository's own code (GITHUB_SHA is a commit of this repository
// that someone with write access pushed, tagged, dispatched or queued), from GitHub's table
// "Events that trigger workflows" (docs.github.com/actions/reference/events-that-trigger-workflows;
// the same list as rhysd/actionlint all_webhooks.go). merge_group is here: a merge queue's branch
// lives in this repository and only someone who may merge can queue a pull request.
// Any event not named here or below is refused: a new event is unknown until someone reads it.
const OWN_CODE_EVENTS = new Set([
  'branch_protection_rule', 'create', 'delete', 'deployment', 'deployment_status', 'discussion', 'discussion_comment',
  'fork', 'gollum', 'issues', 'label', 'merge_group', 'milestone', 'page_build', 'project', 'project_card',
  'project_column', 'public', 'push', 'registry_package', 'release', 'repository_dispatch', 'schedule', 'status',
  'watch', 'workflow_dispatch',
]);

// Events that carry the pull request, with its head and base repositories (octokit/webhooks
// payload-examples/api.github.com/<event>/*.payload.json).
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment']);

interface Repo {
  id?: number;
  full_name?: string;
  url?: string;
  fork?: boolean;
}
interface CheckPullRequest {
  head?: { repo?: Repo | null };
  base?: { repo?: Repo | null };
}
interface CheckSuite {
  head_branch?: string | null;
  pull_requests?: CheckPullRequest[];
}
interface EventPayload {
  repository?: Repo;
  pull_request?: { head?: { repo?: Repo | null }; base?: { repo?: Repo | null } };
  issue?: { pull_request?: unknown };
  workflow_run?: { event?: string; head_repository?: Repo | null; repository?: Repo };
  check_suite?: CheckSuite;
  check_run?: { check_suite?: CheckSuite; pull_requests?: CheckPullRequest[] };
}

/** Whether two repositories are the same one: by id and by name where the payload has them. */
function sameRepo(a: Repo | null | undefined, b: Repo | null | undefined): boolean {
  if (!a || !b) return false;
  const keys = (['id', 'full_name', 'url'] as const).filter((k) => a[k] !== undefined && b[k] !== undefined);
  return keys.length > 0 && keys.every((k) => a[k] === b[k]);
}

/**
 * Why code from this event may come from a fork, or undefined when its head is this repository's.
 * Pure: the event name and its parsed payload (undefined when it could not be read).
 */
export function eventRefusal(name: string | undefined, event: EventPayload | undefined): string | undefined {
  if (!name) return 'the event name (GITHUB_EVENT_NAME) is not set, so a fork cannot be ruled out';
  if (OWN_CODE_EVENTS.has(name)) return undefined;
  const known = PULL_REQUEST_EVENTS.has(name) || ['workflow_run', 'issue_comment', 'check_run', 'check_suite'].includes(name);
  if (!known) return `the event ${name} is not one known to run only this repository's code`;
  if (!event) return `the ${name} event payload cannot be read, so a fork cannot be ruled out`;

  if (PULL_REQUEST_EVENTS.has(name)) {
    const head = event.pull_request?.head?.repo;
    const base = event.pull_request?.base?.repo ?? event.repository;
    // A deleted fork has head.repo null: still a fork.
    if (!head) return `the ${name} event's pull request comes from a deleted repository (a fork)`;
    if (!sameRepo(head, base) || (head.fork === true && base?.fork !== true)) return `the ${name} event's pull request comes from the fork ${head.full_name ?? '(unknown)'}`;
    return undefined;
  }
  if (name === 'workflow_run') {
    const run = event.workflow_run;
    const head = run?.head_repository;
    const base = run?.repository ?? event.repository;
    // The run that triggered this one ran the repository's code only if its own head says so:
    // pull_request_target, issue_comment, check_* and workflow_run runs have the base's head
    // whatever they checked out, and may hand a fork's bytes on in artifacts.
    if (!run?.event || !(OWN_CODE_EVENTS.has(run.event) || (PULL_REQUEST_EVENTS.has(run.event) && run.event !== 'pull_request_target'))) {
      return `the workflow_run event follows a ${run?.event ?? '(unknown)'} run, whose head cannot be told from the payload`;
    }
    if (!head) return 'the workflow_run event follows a run from a deleted repository (a fork)';
    if (!sameRepo(head, base) || (head.fork === true && base?.fork !== true)) return `the workflow_run event follows a run from the fork ${head.full_name ?? '(unknown)'}`;
    return undefined;
  }
  if (name === 'issue_comment') {
    // A comment on a pull request: the payload names the pull request but not its head.
    if (event.issue?.pull_request !== undefined) return "the issue_comment event is on a pull request, whose head cannot be told from the payload";
    return undefined;
  }
  // check_run, check_suite: GitHub leaves head_branch null (and pull_requests empty) when the
  // suite's head is in a fork (octokit/webhooks payload-schemas/api.github.com/check_suite/*.schema.json).
  const suite = name === 'check_suite' ? event.check_suite : event.check_run?.check_suite;
  if (!suite || typeof suite.head_branch !== 'string' || suite.head_branch === '') return `the ${name} event's head branch is not in this repository (a fork's)`;
  const pulls = [...(suite.pull_requests ?? []), ...(event.check_run?.pull_requests ?? [])];
  const foreign = pulls.find((pr) => !sameRepo(pr.head?.repo, pr.base?.repo) || pr.base?.repo?.id !== event.repository?.id);
  if (foreign) return `the ${name} event's pull request comes from another repository (${foreign.head?.repo?.url ?? 'deleted'})`;
  return undefined;
}

/** Why this run must be refused on this runner, or undefined when it may go ahead. */
export function forkRefusal(env: NodeJS.ProcessEnv, allowForks: boolean): string | undefined {
  // Anything but github-hosted counts as self-hosted: some self-hosted fleets leave it unset
  // (actions/runner src/Runner.Worker/JobRunner.cs sets runner.environment only when the server sends it).
  if (allowForks || env.RUNNER_ENVIRONMENT === 'github-hosted') return undefined;
  // Outside a workflow (the command line on a workstation) there is no event to come from a fork.
  if (env.GITHUB_ACTIONS !== 'true' && !env.GITHUB_EVENT_NAME) return undefined;
  const name = env.GITHUB_EVENT_NAME;
  if (!name || OWN_CODE_EVENTS.has(name)) return eventRefusal(name, undefined);
  let event: EventPayload | undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) event = parsed as EventPayload;
  } catch {
    event = undefined;
  }
  return eventRefusal(name, event);
}

/** Fails the step before anything runs when its code may come from a fork on a self-hosted runner. */
export function refuseForkCode(env: NodeJS.ProcessEnv, allowForks: boolean): void {
  const refusal = forkRefusal(env, allowForks);
  if (!refusal) return;
  const runner = env.RUNNER_ENVIRONMENT ? `RUNNER_ENVIRONMENT=${env.RUNNER_ENVIRONMENT}` : 'RUNNER_ENVIRONMENT unset';
  throw new StageFailure(
    'Fork code refused on a self-hosted runner',
    `Refusing to run on a runner that is not GitHub-hosted (${runner}): ${refusal}. Code from forks must not run on self-hosted runners; set ${ALLOW_FORKS_INPUT}: true only if this runner is disposable.`,
  );
}
