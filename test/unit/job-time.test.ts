import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phaseRows } from '../../src/action/job-time.js';

test('phaseRows: each phase with its share of the whole, then the total', () => {
  assert.deepEqual(phaseRows([['restore', 1], ['build', 2.5], ['save', 0.5]]), [
    ['restore', '1.0 s (25 %)'],
    ['build', '2.5 s (63 %)'],
    ['save', '0.5 s (13 %)'],
    ['**total**', '**4.0 s**'],
  ]);
});

test('phaseRows: a job that took no measurable time has no shares to divide by zero', () => {
  assert.deepEqual(phaseRows([['build', 0]]), [['build', '0.0 s'], ['**total**', '**0.0 s**']]);
});
