import { join } from 'node:path';
import { REPO_ROOT } from './action-runner.js';

export function fixture(...parts: string[]): string {
  return join(REPO_ROOT, 'test', 'fixtures', ...parts);
}
