// The preflight as each server mode meets it, and the ROCm tools as upstream's CLIs behave: image mode
// warns (the container opens /dev/kfd through --group-add) where `command` fails; amd-smi is asked only
// for the sections parsed, by a stand-in that parses its command line as amdsmi_cli does; a tool that
// printed its JSON and exited non-zero is still read; rocm-smi ≤ ROCm 6.0 spells "Card series".
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AMD_SMI_STATIC_ARGS, runPreflight, type PreflightResult } from '../../src/rocm/preflight.js';
import { parseRocmSmi } from '../../src/rocm/smi.js';
import { fixture } from '../support/fixtures.js';
import { RENDER_GID, rocmRoot } from '../support/rocm-tree.js';

const RUNNER = { uid: 1001, gids: [1001] };
const pathOf = (bin: string): NodeJS.ProcessEnv => ({ PATH: `${bin}:/usr/bin:/bin` });

function row(result: PreflightResult, check: string) {
  const found = result.rows.find((r) => r.check === check);
  assert.ok(found, `no '${check}' row in ${JSON.stringify(result.rows.map((r) => r.check))}`);
  return found;
}

/**
 * An amd-smi as strict as ROCm/amdsmi amdsmi_cli/amdsmi_parser.py: `static` takes the section flags of
 * _add_static_parser (and --json from _add_command_modifiers); anything else is argparse's
 * "unrecognized arguments" with exit 2. It records its argv, prints `print`, exits `exit`.
 */
function strictAmdSmi(print: string, exit = 0): { bin: string; argv: () => string[] } {
  const bin = mkdtempSync(join(tmpdir(), 'smoke-amdsmi-'));
  const record = join(bin, 'argv');
  const allowed = ['-a', '--asic', '-b', '--bus', '-V', '--vbios', '-d', '--driver', '-v', '--vram', '-c', '--cache', '-B', '--board', '-R', '--process-isolation', '--json', '-g', '--gpu'];
  writeFileSync(
    join(bin, 'amd-smi'),
    `#!/bin/sh
printf '%s\\n' "$@" > '${record}'
[ "$1" = static ] || { echo "amd-smi: error: argument command: invalid choice: '$1'" >&2; exit 2; }
shift
for a in "$@"; do
  case " ${allowed.join(' ')} " in *" $a "*) ;; *) echo "usage: amd-smi static [-h] ..." >&2; echo "amd-smi: error: unrecognized arguments: $a" >&2; exit 2 ;; esac
done
cat '${fixture('rocm', 'tools', print)}'
exit ${exit}
`,
  );
  chmodSync(join(bin, 'amd-smi'), 0o755);
  return { bin, argv: () => readFileSync(record, 'utf8').trim().split('\n') };
}

describe('preflight by server mode', () => {
  test('image mode: /dev/kfd closed to the runner user is a warning naming the --group-add GID', async () => {
    const { bin } = strictAmdSmi('amd-smi-static-asic-vram-gfx942.json');
    const result = await runPreflight({ root: rocmRoot('gfx942'), identity: RUNNER, opener: 'container', toolEnv: pathOf(bin) });
    const kfd = row(result, '/dev/kfd');
    assert.equal(kfd.verdict, 'warn');
    assert.match(kfd.detail, new RegExp(`runner's user cannot open it .*gid ${RENDER_GID}.*--group-add ${RENDER_GID}`));
    assert.equal(row(result, '/dev/dri/renderD128').verdict, 'warn');
    assert.equal(result.ok, true, JSON.stringify(result.rows));
    assert.deepEqual(result.groupIds, [RENDER_GID]);
  });
  test('command mode: the same host fails, since the server is the runner user\'s own process', async () => {
    const { bin } = strictAmdSmi('amd-smi-static-asic-vram-gfx942.json');
    const result = await runPreflight({ root: rocmRoot('gfx942'), identity: RUNNER, opener: 'runner', toolEnv: pathOf(bin) });
    assert.equal(row(result, '/dev/kfd').verdict, 'fail');
    assert.equal(result.ok, false);
  });
  test('image mode: a node only its owner may open (0600) warns that the container must run as root', async () => {
    const result = await runPreflight({ root: rocmRoot('gfx1151', { mode: 0o600 }), identity: RUNNER, opener: 'container', toolEnv: pathOf(mkdtempSync(join(tmpdir(), 'empty-'))) });
    const kfd = row(result, '/dev/kfd');
    assert.equal(kfd.verdict, 'warn');
    assert.match(kfd.fix!, /cannot open it either unless it runs as root/);
  });
  test('image mode: a missing /dev/kfd still fails', async () => {
    const result = await runPreflight({ root: rocmRoot('gfx1151', { kfd: false }), identity: RUNNER, opener: 'container', toolEnv: pathOf(mkdtempSync(join(tmpdir(), 'empty-'))) });
    assert.equal(row(result, '/dev/kfd').verdict, 'fail');
    assert.equal(result.ok, false);
  });
});

describe('amd-smi and rocm-smi as upstream prints them', () => {
  test('amd-smi static is asked for the ASIC and VRAM sections only, and names the GPUs from them', async () => {
    const smi = strictAmdSmi('amd-smi-static-asic-vram-gfx942.json');
    const result = await runPreflight({ root: rocmRoot('gfx942'), identity: { uid: 0, gids: [] }, toolEnv: pathOf(smi.bin) });
    assert.deepEqual(smi.argv(), ['static', '--asic', '--vram', '--json']);
    assert.deepEqual(AMD_SMI_STATIC_ARGS, smi.argv());
    assert.equal(row(result, 'amd-smi').verdict, 'info');
    assert.deepEqual(result.gpus.map((g) => g.name), ['AMD Instinct MI300X', 'AMD Instinct MI300X']);
  });
  test('the strict stand-in refuses what amdsmi_cli refuses (exit 2), and the preflight says so', async () => {
    const smi = strictAmdSmi('amd-smi-static-asic-vram-gfx942.json');
    const { runTimed } = await import('../../src/tool/timed.js');
    const bad = await runTimed('amd-smi', ['static', '--everything'], { timeoutMs: 5000, env: pathOf(smi.bin) });
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /amd-smi: error: unrecognized arguments: --everything/);
  });
  test('valid JSON with a non-zero exit is used, the exit noted', async () => {
    const smi = strictAmdSmi('amd-smi-static-asic-vram-gfx942.json', 1);
    const result = await runPreflight({ root: rocmRoot('gfx942'), identity: { uid: 0, gids: [] }, toolEnv: pathOf(smi.bin) });
    const amd = row(result, 'amd-smi');
    assert.equal(amd.verdict, 'info');
    assert.match(amd.detail, /gfx942 AMD Instinct MI300X.*\(exited 1/);
    assert.deepEqual(result.gpus.map((g) => g.name), ['AMD Instinct MI300X', 'AMD Instinct MI300X']);
  });
  test('rocm-smi of ROCm ≤ 6.0 ("Card series") names the card as newer ones ("Card Series") do', () => {
    const [old] = parseRocmSmi(readFileSync(fixture('rocm', 'tools', 'rocm-smi-productname-rocm60-gfx1100.txt'), 'utf8'));
    const [current] = parseRocmSmi(readFileSync(fixture('rocm', 'tools', 'rocm-smi-productname-gfx1100.txt'), 'utf8'));
    assert.match(old!.marketName!, /^Navi31 \[Radeon RX 7900/);
    assert.match(current!.marketName!, /^Navi31 \[Radeon RX 7900/);
  });
});
