// Writes docs/predicates/*.schema.json from src/attest/schemas.ts (after `npm run build:tsc`);
// test/unit/attest.test.ts fails when they drift apart.
import { writeFileSync } from 'node:fs';
import { REPRODUCIBILITY_SCHEMA, SMOKE_TEST_SCHEMA } from '../lib/src/attest/schemas.js';

for (const [name, schema] of [['reproducibility-v1', REPRODUCIBILITY_SCHEMA], ['smoke-test-v1', SMOKE_TEST_SCHEMA]]) {
  writeFileSync(new URL(`../docs/predicates/${name}.schema.json`, import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
}
