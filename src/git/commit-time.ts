// The committer time of HEAD: the natural SOURCE_DATE_EPOCH for a reproducible build.
import * as exec from '@actions/exec';

export async function headCommitTime(dir: string): Promise<number | undefined> {
  try {
    const result = await exec.getExecOutput('git', ['-C', dir, 'log', '-1', '--format=%ct'], { ignoreReturnCode: true, silent: true });
    const text = result.stdout.trim();
    return result.exitCode === 0 && /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined; // git not installed
  }
}
