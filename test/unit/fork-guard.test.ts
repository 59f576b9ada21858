// The fork guard on real webhook payloads (test/fixtures/github-events, from octokit/webhooks):
// each event that can carry a fork's code, the same-repository case that may go ahead, and the
// fork case (a copy changed as GitHub's schemas describe a fork) that is refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventRefusal, forkRefusal, refuseForkCode } from '../../src/action/fork-guard.js';
import { StageFailure } from '../../src/action/stage.js';
import { fixture } from '../support/fixtures.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = any;
const payload = (file: string): Payload => JSON.parse(readFileSync(fixture('github-events', file), 'utf8'));
const MALLORY = { id: 999001, name: 'Hello-World', full_name: 'mallory/Hello-World', url: 'https://api.github.com/repos/mallory/Hello-World', fork: true };

const eventFile = (body: unknown): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'fork-guard-')), 'event.json');
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
};
const env = (name: string, body: unknown, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  GITHUB_ACTIONS: 'true',
  RUNNER_ENVIRONMENT: 'self-hosted',
  GITHUB_EVENT_NAME: name,
  GITHUB_EVENT_PATH: eventFile(body),
  ...extra,
});

describe('pull request events carry the head repository', () => {
  for (const [name, file] of [
    ['pull_request', 'pull_request.synchronize.json'],
    ['pull_request_target', 'pull_request.synchronize.json'],
    ['pull_request_review', 'pull_request_review.submitted.json'],
    ['pull_request_review_comment', 'pull_request_review_comment.created.json'],
  ] as const) {
    test(`${name}: the same repository goes ahead; a fork and a deleted fork are refused`, () => {
      const same = payload(file);
      assert.equal(same.pull_request.head.repo.full_name, same.pull_request.base.repo.full_name, 'the fixture is a same-repository pull request');
      assert.equal(eventRefusal(name, same), undefined);

      const fork = payload(file);
      fork.pull_request.head.repo = { ...fork.pull_request.head.repo, ...MALLORY };
      assert.match(eventRefusal(name, fork)!, new RegExp(`${name} event's pull request comes from the fork mallory/Hello-World`));

      const deleted = payload(file);
      deleted.pull_request.head.repo = null;
      assert.match(eventRefusal(name, deleted)!, /deleted repository \(a fork\)/);
    });
  }

  test("a fork that copies the base's name, or only its fork flag differs, is still refused", () => {
    const sameName = payload('pull_request.synchronize.json');
    sameName.pull_request.head.repo = { ...sameName.pull_request.head.repo, id: MALLORY.id };
    assert.match(eventRefusal('pull_request', sameName)!, /comes from the fork Codertocat\/Hello-World/);
    const flagged = payload('pull_request.synchronize.json');
    flagged.pull_request.head.repo.fork = true;
    assert.match(eventRefusal('pull_request', flagged)!, /comes from the fork/);
  });

  test('a repository that is itself a fork, with a pull request from its own branch, goes ahead', () => {
    const own = payload('pull_request.synchronize.json');
    own.pull_request.head.repo.fork = true;
    own.pull_request.base.repo.fork = true;
    assert.equal(eventRefusal('pull_request', own), undefined);
  });

  test('a payload that cannot be read, or is not an object, is refused', () => {
    assert.match(forkRefusal(env('pull_request', '{"pull_request":'), false)!, /payload cannot be read/);
    assert.match(forkRefusal(env('pull_request', '[]'), false)!, /payload cannot be read/);
    assert.match(forkRefusal(env('pull_request', 'null'), false)!, /payload cannot be read/);
    assert.match(forkRefusal({ ...env('pull_request', {}), GITHUB_EVENT_PATH: '/nonexistent/event.json' }, false)!, /payload cannot be read/);
    assert.match(forkRefusal({ ...env('pull_request', {}), GITHUB_EVENT_PATH: undefined }, false)!, /payload cannot be read/);
  });
});

describe('workflow_run follows another run', () => {
  const run = (change: (p: Payload) => void): Payload => {
    const p = payload('workflow_run.completed.with-pull-requests.json');
    change(p);
    return p;
  };
  test('the fixture (after repository_dispatch, same repository) and a same-repository pull request run go ahead', () => {
    assert.equal(eventRefusal('workflow_run', payload('workflow_run.completed.with-pull-requests.json')), undefined);
    assert.equal(eventRefusal('workflow_run', run((p) => void (p.workflow_run.event = 'pull_request'))), undefined);
  });
  test("a run from a fork's pull request is refused: by its head repository's name, id or fork flag", () => {
    const fork = run((p) => Object.assign(p.workflow_run, { event: 'pull_request', head_repository: { ...p.workflow_run.head_repository, ...MALLORY } }));
    assert.match(eventRefusal('workflow_run', fork)!, /follows a run from the fork mallory\/Hello-World/);
    const flagged = run((p) => Object.assign(p.workflow_run, { event: 'pull_request', head_repository: { ...p.workflow_run.head_repository, fork: true } }));
    assert.match(eventRefusal('workflow_run', flagged)!, /from the fork octo-org\/octo-repo/);
    const deleted = run((p) => Object.assign(p.workflow_run, { event: 'pull_request', head_repository: null }));
    assert.match(eventRefusal('workflow_run', deleted)!, /deleted repository/);
  });
  test('after a run whose head cannot be told (pull_request_target, issue_comment, workflow_run, none), refused', () => {
    for (const event of ['pull_request_target', 'issue_comment', 'workflow_run', 'check_suite', undefined]) {
      assert.match(eventRefusal('workflow_run', run((p) => void (p.workflow_run.event = event)))!, /whose head cannot be told/, String(event));
    }
  });
});

describe('issue_comment', () => {
  test("on an issue it goes ahead; on a pull request (issue.pull_request) its head cannot be told: refused unless allowed", () => {
    const issue = payload('issue_comment.created.json');
    assert.equal(issue.issue.pull_request, undefined, 'the fixture is a comment on an issue');
    assert.equal(eventRefusal('issue_comment', issue), undefined);
    const onPr = payload('issue_comment.created.json');
    onPr.issue.pull_request = { url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/1', html_url: 'https://github.com/Codertocat/Hello-World/pull/1', diff_url: 'https://github.com/Codertocat/Hello-World/pull/1.diff', patch_url: 'https://github.com/Codertocat/Hello-World/pull/1.patch', merged_at: null };
    assert.match(forkRefusal(env('issue_comment', onPr), false)!, /issue_comment event is on a pull request, whose head cannot be told/);
    assert.equal(forkRefusal(env('issue_comment', onPr), true), undefined);
  });
});

describe('check_run and check_suite', () => {
  for (const [name, file, suiteOf] of [
    ['check_suite', 'check_suite.completed.json', (p: Payload) => p.check_suite],
    ['check_run', 'check_run.completed.json', (p: Payload) => p.check_run.check_suite],
  ] as const) {
    test(`${name}: a branch of this repository goes ahead; a fork's (head_branch null) or a foreign pull request is refused`, () => {
      const same = payload(file);
      assert.equal(suiteOf(same).head_branch, 'changes');
      assert.equal(eventRefusal(name, same), undefined);

      const fork = payload(file);
      Object.assign(suiteOf(fork), { head_branch: null, pull_requests: [] });
      if (fork.check_run) fork.check_run.pull_requests = [];
      assert.match(eventRefusal(name, fork)!, new RegExp(`${name} event's head branch is not in this repository`));

      const foreign = payload(file);
      suiteOf(foreign).pull_requests[0].head.repo = { id: MALLORY.id, url: MALLORY.url, name: MALLORY.name };
      assert.match(eventRefusal(name, foreign)!, /pull request comes from another repository \(https:\/\/api.github.com\/repos\/mallory\/Hello-World\)/);
    });
  }
});

describe('events that run only this repository’s code, and the rest', () => {
  test('push and merge_group go ahead without reading the payload', () => {
    assert.equal(eventRefusal('push', payload('push.json')), undefined);
    assert.equal(eventRefusal('merge_group', payload('merge_group.checks_requested.json')), undefined);
    assert.equal(forkRefusal({ ...env('push', {}), GITHUB_EVENT_PATH: '/nonexistent' }, false), undefined);
  });
  test('an event not known to run only this repository’s code is refused; so is no event name inside Actions', () => {
    assert.match(forkRefusal(env('some_new_event', {}), false)!, /the event some_new_event is not one known to run only this repository's code/);
    assert.match(forkRefusal(env('', {}), false)!, /GITHUB_EVENT_NAME\) is not set/);
    assert.equal(forkRefusal({ RUNNER_ENVIRONMENT: undefined }, false), undefined, 'the command line outside a workflow: no event');
  });
});

describe('which runner counts as self-hosted', () => {
  const fork = (): Payload => {
    const p = payload('pull_request.synchronize.json');
    p.pull_request.head.repo = { ...p.pull_request.head.repo, ...MALLORY };
    return p;
  };
  test('only github-hosted is trusted: unset, empty, self-hosted or another spelling are not', () => {
    assert.equal(forkRefusal(env('pull_request', fork(), { RUNNER_ENVIRONMENT: 'github-hosted' }), false), undefined);
    for (const runner of [undefined, '', 'self-hosted', 'GitHub-Hosted', 'github-hosted ']) {
      assert.match(forkRefusal(env('pull_request', fork(), { RUNNER_ENVIRONMENT: runner }), false) ?? '', /fork mallory/, JSON.stringify(runner));
    }
  });
  test('the failure names the runner, the reason and the input that allows it', () => {
    const failure = (() => {
      try {
        refuseForkCode(env('pull_request', fork(), { RUNNER_ENVIRONMENT: undefined }), false);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(failure instanceof StageFailure);
    assert.match(failure.message, /^Refusing to run on a runner that is not GitHub-hosted \(RUNNER_ENVIRONMENT unset\): the pull_request event's pull request comes from the fork mallory\/Hello-World\. .*set allow-fork-pull-requests: true only if this runner is disposable/);
    assert.doesNotThrow(() => refuseForkCode(env('pull_request', fork()), true));
  });
});
