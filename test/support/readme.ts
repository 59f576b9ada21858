// The README's section for one stage: from its `### <stage>` heading to the next heading.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './action-runner.js';

export function readmeSection(stage: string): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n### ${stage}\n`);
  if (start < 0) throw new Error(`README.md has no '### ${stage}' section`);
  const next = readme.slice(start + 1).search(/\n#{2,3} /);
  return next < 0 ? readme.slice(start) : readme.slice(start, start + 1 + next);
}
