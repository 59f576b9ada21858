import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfLines, renderDropIn, unknownSettings } from '../../src/nix/conf.js';
import { candidatePaths } from '../../src/nix/locate.js';
import { nixFeatures, parseNixVersion } from '../../src/nix/version.js';

test('Nix version strings, from Debian, upstream and Determinate builds', () => {
  assert.equal(parseNixVersion('nix (Nix) 2.8.0\n')?.raw, '2.8.0');
  assert.equal(parseNixVersion('nix (Nix) 2.26.3')?.minor, 26);
  assert.equal(parseNixVersion('nix (Determinate Nix 3.6.2) 2.29.0')?.raw, '2.29.0');
  assert.equal(parseNixVersion('bash: nix: command not found'), undefined);
});

test('features by version: the shapes that changed', () => {
  const v28 = nixFeatures(parseNixVersion('nix (Nix) 2.8.0')!);
  const v226 = nixFeatures(parseNixVersion('nix (Nix) 2.26.3')!);
  assert.deepEqual([v28.printOutPaths, v28.pathInfoJsonIsMap, v28.configShow], [false, false, false]);
  assert.deepEqual([v226.printOutPaths, v226.pathInfoJsonIsMap, v226.configShow], [true, true, true]);
  assert.equal(nixFeatures(parseNixVersion('nix (Nix) 2.18.1')!).pathInfoJsonIsMap, false);
});

test('candidate locations: PATH first, then the places a bare PATH misses', () => {
  const paths = candidatePaths({ PATH: '/opt/bin:/usr/local/bin', HOME: '/home/runner', USER: 'runner' }).map((c) => `${c.foundBy}:${c.path}`);
  assert.deepEqual(paths, [
    'PATH:/opt/bin/nix',
    'PATH:/usr/local/bin/nix',
    'default profile:/nix/var/nix/profiles/default/bin/nix',
    'NixOS system:/run/current-system/sw/bin/nix',
    'user profile:/home/runner/.nix-profile/bin/nix',
    'user profile:/nix/var/nix/profiles/per-user/runner/profile/bin/nix',
    'distribution package:/usr/bin/nix',
    'distribution package:/usr/local/bin/nix',
  ]);
});

test('extra-conf lines are checked before Nix sees them', () => {
  assert.equal(checkConfLines('max-jobs = 4\n\n# note\nextra-substituters = https://c.example.org'), undefined);
  assert.deepEqual(checkConfLines('max-jobs = 4\nsandbox false'), { line: 2, text: 'sandbox false', reason: 'expected "name = value"' });
  assert.match(checkConfLines('!include /etc/x.conf')!.reason, /include/);
  assert.match(checkConfLines('Max_Jobs = 4')!.reason, /not a setting name/);
});

test('the drop-in adds to the user settings (extra-*) and ends with extra-conf', () => {
  const text = renderDropIn({
    substituters: ['https://a.example.org', 'file:///c'],
    trustedPublicKeys: ['a-1:AAAA'],
    accessTokens: [['github.com', 'ghs_x']],
    netrcFile: '/tmp/netrc',
    extraConf: 'max-jobs = 2',
  });
  assert.equal(
    text,
    [
      '# Written by vllm-rocm-action setup-nix for this job.',
      'extra-experimental-features = nix-command flakes',
      'extra-substituters = https://a.example.org file:///c',
      'extra-trusted-public-keys = a-1:AAAA',
      'access-tokens = github.com=ghs_x',
      'netrc-file = /tmp/netrc',
      '# extra-conf',
      'max-jobs = 2',
      '',
    ].join('\n'),
  );
});

test("unknown settings from Nix's warnings (captured from nix 2.8)", () => {
  assert.deepEqual(unknownSettings("warning: unknown setting 'foo-bar'\nwarning: unknown setting 'x'\n"), ['foo-bar', 'x']);
});
