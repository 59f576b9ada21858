// Hostile archives and descriptions (issue 7 §2) end in a clear error within bounded memory: each
// input is generated streaming, read by the reader a stage uses in a child process, and the
// child's peak RSS (getrusage) must stay under 256 MiB. Without the caps these took 0.8–4.8 GB.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { HOSTILE_CASES, measure, RSS_LIMIT_MIB } from '../fixtures/hostile/cases.js';
import { scratch } from '../fixtures/reproducibility/make-image.js';

let work: string;

before(() => {
  work = scratch('hostile-');
});

after(() => rmSync(work, { recursive: true, force: true }));

for (const hostile of HOSTILE_CASES) {
  test(hostile.name, () => {
    const result = measure(hostile.make(work));
    assert.equal(result.code, 2, `an error, not a result: ${JSON.stringify(result)}`);
    assert.match(result.error, hostile.error);
    assert.ok(result.maxRssMiB <= RSS_LIMIT_MIB, `peak RSS ${result.maxRssMiB} MiB > ${RSS_LIMIT_MIB} MiB`);
  });
}
