// The runner's workflow-command parsing (lines from actions/runner's own tests,
// src/Test/L0/Worker/ActionCommandL0.cs and ActionCommandManagerL0.cs) and the neutralising of
// untrusted text: no line of it may be a command to that parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader, neutraliseCommands, parseCommandLegacy, parseCommandV2, parseWorkflowCommand, runnerLines, stepValues } from '../../src/runner/workflow-commands.js';

const doSomething = new Set(['do-something']);

test('TryParse (legacy ##[): the cases of ActionCommandL0.cs', () => {
  assert.deepEqual(parseCommandLegacy('##[do-something k1=v1;]msg', doSomething), { name: 'do-something', properties: { k1: 'v1' }, message: 'msg' });
  assert.deepEqual(parseCommandLegacy('##[do-something]', doSomething), { name: 'do-something', properties: {}, message: '' });
  assert.deepEqual(parseCommandLegacy('##[do-something k1=%3B=%0D=%0A=%5D;]%3B-%0D-%0A-%5D', doSomething), { name: 'do-something', properties: { k1: ';=\r=\n=]' }, message: ';-\r-\n-]' });
  assert.deepEqual(parseCommandLegacy('##[do-something k1=%253B=%250D=%250A=%255D;]%253B-%250D-%250A-%255D', doSomething), { name: 'do-something', properties: { k1: '%3B=%0D=%0A=%5D' }, message: '%3B-%0D-%0A-%5D' });
  assert.deepEqual(parseCommandLegacy('##[do-something k1=;k2=;]', doSomething), { name: 'do-something', properties: {}, message: '' });
  // Anywhere in the line: the `#N ` prefix buildx progress lines carry does not stop it.
  assert.deepEqual(parseCommandLegacy('>>>   ##[do-something k1=v1;]msg', doSomething), { name: 'do-something', properties: { k1: 'v1' }, message: 'msg' });
  assert.equal(parseCommandLegacy('##[not-registered]x', doSomething), undefined);
});

test('TryParseV2 (::): the cases of ActionCommandL0.cs', () => {
  assert.deepEqual(parseCommandV2('::do-something k1=v1,::msg', doSomething), { name: 'do-something', properties: { k1: 'v1' }, message: 'msg' });
  assert.deepEqual(parseCommandV2('::do-something::', doSomething), { name: 'do-something', properties: {}, message: '' });
  assert.deepEqual(parseCommandV2('::do-something k1=;=%2C=%0D=%0A=]=%3A,::;-%0D-%0A-]-:-,', doSomething), { name: 'do-something', properties: { k1: ';=,=\r=\n=]=:' }, message: ';-\r-\n-]-:-,' });
  assert.deepEqual(parseCommandV2('::do-something k1=;=%252C=%250D=%250A=]=%253A,::;-%250D-%250A-]-:-,', doSomething), { name: 'do-something', properties: { k1: ';=%2C=%0D=%0A=]=%3A' }, message: ';-%0D-%0A-]-:-,' });
  assert.deepEqual(parseCommandV2('::do-something k1=,k2=,::', doSomething), { name: 'do-something', properties: {}, message: '' });
  assert.deepEqual(parseCommandV2('::do-something k1=v1::', doSomething), { name: 'do-something', properties: { k1: 'v1' }, message: '' });
  assert.deepEqual(parseCommandV2('   ::do-something k1=v1,::msg', doSomething), { name: 'do-something', properties: { k1: 'v1' }, message: 'msg' });
  assert.equal(parseCommandV2('   >>>   ::do-something k1=v1,::msg', doSomething), undefined);
});

test('names and property keys are case-insensitive; .NET trims \\u0085 that JavaScript keeps', () => {
  assert.deepEqual(parseWorkflowCommand('::SAVE-STATE NAME=x::y'), { name: 'SAVE-STATE', properties: { name: 'x' }, message: 'y' });
  assert.equal(parseWorkflowCommand('\u0085::save-state name=x::y')?.properties.name, 'x');
  // V2 fails (no registered name), the legacy form later in the line still counts.
  assert.equal(parseWorkflowCommand('::nothing::##[set-output name=digest]sha256:0')?.name, 'set-output');
});

test('stop-commands pauses every command, add-mask included, until its token (ActionCommandManagerL0.cs)', () => {
  const reader = new CommandReader();
  assert.equal(reader.read('##[stop-commands]stopToken')?.name, 'stop-commands');
  assert.equal(reader.read('##[set-env name=foo]bar'), undefined);
  assert.equal(reader.read('::add-mask::secret'), undefined);
  assert.equal(reader.read('##[stopToken]')?.name, 'stopToken');
  assert.equal(reader.read('##[set-env name=foo]bar')?.name, 'set-env');
  const v2 = new CommandReader();
  v2.read('::stop-commands::abcdef1234');
  assert.equal(v2.read('::save-state name=a::b'), undefined);
  assert.ok(v2.read('::ABCDEF1234::'));
  assert.throws(() => new CommandReader().read('::stop-commands::set-output'), /unsupported token/);
  assert.throws(() => new CommandReader().read('::stop-commands::pause-logging'), /unsupported token/);
});

test('lines end at \\n, \\r and \\r\\n (StreamReader.ReadLine)', () => {
  assert.deepEqual(runnerLines('a\rb\r\nc\nd'), ['a', 'b', 'c', 'd']);
});

test('state and outputs: commands first, then the files win for the names they set, case-insensitively', () => {
  const commands = ['::save-state name=Local-Cache::forged', '##[save-state name=other]x', '::set-output name=digest::forged'].map((l) => parseWorkflowCommand(l)!);
  assert.deepEqual(stepValues(commands, 'save-state', { 'local-cache': 'mine' }), { 'Local-Cache': 'mine', other: 'x' });
  assert.deepEqual(stepValues(commands, 'set-output', {}), { digest: 'forged' });
});

// Forgeries a build step could print, each as the runner would read it before neutralising.
const HOSTILE = [
  '::save-state name=local-cache::{"dir":"/victim"}',
  '   ::set-output name=digest::sha256:forged',
  '\t::add-mask::x',
  '\u0085::save-state name=a::b',
  '\u00A0\u3000::save-state name=a::b',
  '#5 0.123 ##[save-state name=local-cache]{"dir":"/victim"}',
  'text ##[set-output name=digest]sha256:forged and more ##[error]x',
  '##[stop-commands]tok',
  'progress 10%\r::save-state name=a::b',
  'progress\r##[save-state name=a]b',
  '::SAVE-STATE NAME=a::b',
];

test('neutralised untrusted text holds no command, whatever the runner registers', () => {
  for (const text of HOSTILE) {
    const reader = new CommandReader();
    assert.ok(runnerLines(text).some((l) => reader.read(l)), `the sample is a command as it stands: ${JSON.stringify(text)}`);
    const safe = neutraliseCommands(text);
    const after = new CommandReader();
    for (const line of runnerLines(safe)) assert.equal(after.read(line), undefined, `still a command: ${JSON.stringify(line)}`);
    // Any word at all, as a stop token the runner registered would be (only a command, never neutralised text, registers one).
    for (const line of runnerLines(safe)) {
      const any = new Set([...(line.match(/[\w-]+/g) ?? [])].map((n) => n.toLowerCase()));
      assert.equal(parseWorkflowCommand(line, any), undefined, `still a command to some name: ${JSON.stringify(line)}`);
    }
  }
});

test('neutralising keeps plain text and line breaks as they are, and inserts only visible ASCII', () => {
  const plain = '#7 [2/3] RUN make -j8\r\nstd::vector<int> ok\nhttp://[::1]:8000/health';
  assert.equal(neutraliseCommands(plain), plain);
  assert.equal(neutraliseCommands('#5 ##[save-state name=x]y'), '#5 ##[\\save-state name=x]y');
  assert.equal(neutraliseCommands('  ::warning::x'), '  \\::warning::x');
  // Zero-width characters may be skipped by the runner's culture-sensitive IndexOf: neutralised too.
  assert.equal(neutraliseCommands('#\u200B#[save-state name=x]y'), '#\u200B#[\\save-state name=x]y');
  assert.equal(neutraliseCommands('\u200B::save-state name=x::y'), '\u200B\\::save-state name=x::y');
});
