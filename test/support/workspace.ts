// Lays a fixture into a job's workspace. Docker fixtures get Debian's static busybox as
// their only binary, since no base image can be pulled here.
import { chmodSync, copyFileSync, cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './fixtures.js';
import type { RunnerJob } from './action-runner.js';

export const BUSYBOX = '/bin/busybox';

export function layDockerFixture(job: RunnerJob, name: string, into = '.'): string {
  const dest = join(job.workspace, into);
  cpSync(fixture('docker', name), dest, { recursive: true });
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: scripts/setup-toolchain.sh installs busybox-static`);
  copyFileSync(BUSYBOX, join(dest, 'busybox'));
  chmodSync(join(dest, 'busybox'), 0o755);
  return dest;
}
