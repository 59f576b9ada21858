// The command line's pure parts: arguments against an action.yml, "did you mean", the log's
// workflow commands and masks, the job summary as terminal text, and the local cache/artifact store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as core from '@actions/core';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchLocalArtifact, keepLocalArtifact, restoreLocalDirectory, saveLocalDirectory } from '../../src/action/local-services.js';
import { closestName, parseArgv, resolveInputs, UsageError } from '../../src/cli/args.js';
import { actionHelp } from '../../src/cli/help.js';
import { runsPost } from '../../src/cli/local-runner.js';
import { LogRenderer, renderSummary } from '../../src/cli/render.js';
import type { ActionMetadata } from '../../src/runner/action-metadata.js';
import { readActionMetadata, REPO_ROOT } from '../support/action-runner.js';

const META: ActionMetadata = {
  description: 'A stage.',
  inputs: {
    source: { description: 'The image.', required: true },
    cache: { description: 'Cache type.', default: 'gha' },
    'cache-ref': { description: 'Cache reference.', default: '' },
    'build-args': { description: 'KEY=VALUE lines.', default: '' },
  },
  runs: { using: 'node24', main: 'index.js', post: 'index.js' },
};

test('argv: --name value and --name=value, repeats kept in order, the command and the flags apart', () => {
  const parsed = parseArgv(['build-docker', '--cache', 'none', '--build-args=A=1', '--debug', '--build-args', 'B=2', '--workspace', '/w', '--extra-args', '--impure']);
  assert.equal(parsed.command, 'build-docker');
  assert.equal(parsed.debug, true);
  assert.equal(parsed.help, false);
  assert.equal(parsed.workspace, '/w');
  assert.deepEqual(parsed.options, [['cache', 'none'], ['build-args', 'A=1'], ['build-args', 'B=2'], ['extra-args', '--impure']]);
  assert.equal(parseArgv(['publish', '-h']).help, true);
  assert.equal(parseArgv(['--help']).command, undefined);
  assert.throws(() => parseArgv(['publish', '--image']), /--image needs a value/);
  assert.deepEqual(parseArgv(['publish', 'extra']).extra, ['extra']);
});

test('inputs: repeats join with newlines; an unknown input names the nearest; a missing required one is named', () => {
  const resolve = (options: Array<[string, string]>, extra: string[] = []): Record<string, string> => resolveInputs('s', META, { options, extra });
  assert.deepEqual(resolve([['source', 'a.tar'], ['build-args', 'A=1'], ['build-args', 'B=2']]), { source: 'a.tar', 'build-args': 'A=1\nB=2' });
  assert.throws(() => resolve([['source', 'a'], ['cache-rf', 'x']]), /s has no input --cache-rf \(did you mean --cache-ref\?\)/);
  assert.throws(() => resolve([['source', 'a'], ['zzzzzzzz', 'x']]), (e: Error) => e instanceof UsageError && !/did you mean/.test(e.message));
  assert.throws(() => resolve([]), /s: missing required input --source \(The image\.\)/);
  assert.throws(() => resolve([['source', '  ']]), /missing required input --source/);
  // A value-less --cache swallowed the next input's name; a stray word is named.
  assert.throws(() => resolve([['source', 'a'], ['cache', '--cache-ref']], ['x']), /--cache needs a value before --cache-ref/);
  assert.throws(() => resolve([['source', 'a']], ['x']), /unexpected argument 'x'/);
  assert.deepEqual(resolve([['source', 'a'], ['build-args', '--not-an-input']]), { source: 'a', 'build-args': '--not-an-input' });
});

test('closest name: one typo, a transposition, an abbreviation; nothing for a stranger', () => {
  const names = Object.keys(META.inputs!);
  assert.equal(closestName('cahce', names), 'cache');
  assert.equal(closestName('build-arg', names), 'build-args');
  assert.equal(closestName('cache-r', names), 'cache-ref');
  assert.equal(closestName('platform', names), undefined);
  assert.equal(closestName('biuld-docker', ['build-docker', 'build-nix', 'pipeline']), 'build-docker');
});

test('help: every input of a real action.yml with its default, required mark and description', () => {
  const meta = readActionMetadata('publish');
  const text = actionHelp('publish', meta, true);
  for (const name of Object.keys(meta.inputs!)) assert.match(text, new RegExp(`^  --${name}\\b`, 'm'));
  assert.match(text, /--source {2}\(required\)/);
  assert.match(text, /--sign {2}\(default: none\)/);
  assert.match(text, /--github-token {2}\(default: \$GITHUB_TOKEN or \$GH_TOKEN\)/);
  assert.match(text, /^Outputs:\n {2}digest$/m);
});

test('post runs by post-if: always() by default, success() only after a good main', () => {
  assert.equal(runsPost(META, 1), true);
  assert.equal(runsPost({ ...META, runs: { ...META.runs, 'post-if': 'success()' } }, 1), false);
  assert.equal(runsPost({ ...META, runs: { ...META.runs, 'post-if': '${{ success() }}' } }, 0), true);
  assert.equal(runsPost({ ...META, runs: { using: 'node24', main: 'x' } }, 0), false);
});

test('log: groups as progress lines, debug hidden unless asked, annotations labelled, masks from then on', () => {
  const log = new LogRenderer({ debug: false });
  const shown = ['::group::setup-nix', 'inside', '::endgroup::', '::debug::hidden', '::warning::careful%0Asecond line', '::error title=Bad input::Input x: wrong', 'before s3cr3t-value', '::add-mask::s3cr3t-value', 'after s3cr3t-value', '::notice::s3cr3t-value']
    .map((l) => log.stdoutLine(l))
    .filter((l) => l !== undefined);
  assert.deepEqual(shown, ['==> setup-nix', 'inside', 'warning: careful\n  second line', 'error: Bad input: Input x: wrong', 'before s3cr3t-value', 'after ***', 'notice: ***']);
  assert.deepEqual(log.errors, ['Input x: wrong']);
  assert.equal(new LogRenderer({ debug: true }).stdoutLine('::debug::shown'), 'debug: shown');
  assert.equal(log.stderrLine('    at main (file:///x/index.js:1:2)'), undefined);
  assert.equal(log.stderrLine('oops s3cr3t-value'), 'oops ***');
  assert.equal(new LogRenderer({ debug: true }).stderrLine('    at main (file:///x/index.js:1:2)'), '    at main (file:///x/index.js:1:2)');
});

test('masks: a multi-line secret is hidden line by line, a longer secret before its substring', () => {
  const log = new LogRenderer({ debug: false });
  log.stdoutLine('::add-mask::abc');
  log.stdoutLine('::add-mask::line-one-secret%0Aline-two-secret');
  assert.equal(log.stdoutLine('x abcdef line-two-secret'), 'x ***def ***');
  log.masker.add('abcdef');
  assert.equal(log.masker.mask('abcdef abc'), '*** ***');
});

test('summary: headings underlined, tables aligned without their empty header, <br> and HTML flattened, mermaid named', () => {
  const md = [
    '<h3>Docker image built</h3>',
    '| | |',
    '|---|---|',
    '| Digest | `sha256:ab` |',
    '| refs | `a:1`<br>`a:2` |',
    '| pipe | a \\| b |',
    '',
    '## Comparison',
    '| | nix | docker |',
    '|:--|--:|--:|',
    '| **build** | 2 s | 30 s |',
    '| ✅ | ⚠️ | ❌ x |',
    '```mermaid',
    'xychart-beta',
    '```',
    '<details><summary>Last server log lines</summary>',
    '',
    '```',
    'log line',
    '```',
    '</details>',
    'Size &lt; 1 GiB',
  ].join('\n');
  assert.equal(
    renderSummary(md),
    [
      'Docker image built',
      '------------------',
      '  Digest   `sha256:ab`',
      '  refs     `a:1`, `a:2`',
      '  pipe     a | b',
      '',
      'Comparison',
      '==========',
      '          nix   docker',
      '  build   2 s   30 s',
      '  ✅      ⚠️    ❌ x',
      '  (a chart: shown in the job summary on GitHub)',
      'Last server log lines:',
      '',
      '    log line',
      'Size < 1 GiB',
      '',
    ].join('\n'),
  );
});

test("summary: an HTML table as @actions/core's addTable writes it (setup-nix's) is aligned like a Markdown one", () => {
  // The real writer, so the test follows its markup: one line, <th> header cells, <td> data cells.
  const html = core.summary
    .emptyBuffer()
    .addHeading('Nix', 3)
    .addTable([
      [{ data: 'Version', header: true }, { data: 'Path', header: true }, { data: 'Found by', header: true }, { data: 'Daemon', header: true }],
      ['2.8.0', '/usr/bin/nix', 'PATH', 'no'],
    ])
    .stringify();
  core.summary.emptyBuffer();
  assert.match(html, /<table><tr><th>Version<\/th>/);
  assert.equal(
    renderSummary(html),
    ['Nix', '---', '  Version   Path           Found by   Daemon', '  2.8.0     /usr/bin/nix   PATH       no', ''].join('\n'),
  );
});

test('argv: a mistyped flag with nothing after it is suggested, not said to need a value', () => {
  assert.throws(() => parseArgv(['build-docker', '--hlep']), /unknown option --hlep \(did you mean --help\?\)/);
  assert.throws(() => parseArgv(['build-docker', '--dbug']), /did you mean --debug\?/);
  assert.throws(() => parseArgv(['publish', '--image']), /--image needs a value/);
});

test('local store: exact key, else the newest entry of the first matching prefix; entries never replaced', async () => {
  const root = mkdtempSync(join(tmpdir(), 'h-cli-store-'));
  const src = join(root, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'sub', 'f'), 'one');
  assert.equal(await saveLocalDirectory(root, src, 'k-linux-a'), true);
  assert.equal(await saveLocalDirectory(root, src, 'k-linux-a'), false);
  writeFileSync(join(src, 'sub', 'f'), 'two');
  assert.equal(await saveLocalDirectory(root, src, 'k-linux/b'), true);
  utimesSync(join(root, 'cache', encodeURIComponent('k-linux-a')), new Date(1000), new Date(1000));
  const dir = join(root, 'restored');
  assert.equal(await restoreLocalDirectory(root, dir, 'k-linux-a', ['k-']), 'k-linux-a');
  assert.equal(readFileSync(join(dir, 'sub', 'f'), 'utf8'), 'one');
  assert.equal(await restoreLocalDirectory(root, dir, 'k-other', ['nothing-', 'k-linux']), 'k-linux/b');
  assert.equal(readFileSync(join(dir, 'sub', 'f'), 'utf8'), 'two');
  assert.equal(await restoreLocalDirectory(root, dir, 'x', ['y']), undefined);
  assert.deepEqual(readdirSync(join(root, 'cache')).filter((n) => n.startsWith('.')), []);
});

test('local store: an artifact kept, replaced by a later one of the same name, fetched; a missing one is an error naming it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'h-cli-artifacts-'));
  const file = join(root, 'report.json');
  writeFileSync(file, '{"a":1}');
  await keepLocalArtifact(root, 'report', [file]);
  writeFileSync(file, '{"a":2}');
  await keepLocalArtifact(root, 'report', [file]);
  const dir = await fetchLocalArtifact(root, 'report', join(root, 'out'));
  assert.equal(readFileSync(join(dir, 'report.json'), 'utf8'), '{"a":2}');
  await assert.rejects(fetchLocalArtifact(root, 'nope', join(root, 'out2')), /no artifact named 'nope'/);
});

test("the README's command-line examples name real stages and inputs", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Command line\n'), readme.indexOf('\n## Stages\n'));
  const commands = section.split('\n').filter((l) => l.startsWith('node dist/cli/index.js '));
  assert.ok(commands.length >= 3, section);
  for (const line of commands) {
    const argv = line.replace(/#.*$/, '').trim().split(/\s+/).slice(2).map((a) => a.replace(/"/g, ''));
    const parsed = parseArgv(argv);
    if (parsed.help) continue;
    const meta = readActionMetadata(parsed.command === 'pipeline' ? '.' : parsed.command!);
    assert.doesNotThrow(() => resolveInputs(parsed.command!, meta, parsed), line);
  }
});
