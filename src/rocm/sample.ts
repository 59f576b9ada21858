// GPU memory, temperature and power at one moment, from whichever SMI tool answers (each under a timeout).
import { parseAmdSmiMetric, parseRocmSmi, type SmiGpu } from './smi.js';
import { runTimed } from '../tool/timed.js';

export interface GpuSample {
  tool: string;
  gpus: SmiGpu[];
}

export async function sampleGpus(timeoutMs = 15_000, env?: NodeJS.ProcessEnv): Promise<GpuSample | undefined> {
  const rocm = await runTimed('rocm-smi', ['--showtemp', '--showpower', '--showmeminfo', 'vram', '--json'], { timeoutMs, env });
  if (!rocm.missing && !rocm.timedOut && rocm.exitCode === 0) {
    try {
      return { tool: 'rocm-smi', gpus: parseRocmSmi(rocm.stdout) };
    } catch {
      // fall through to amd-smi
    }
  }
  const amd = await runTimed('amd-smi', ['metric', '--json'], { timeoutMs, env });
  if (!amd.missing && !amd.timedOut && amd.exitCode === 0) {
    try {
      return { tool: 'amd-smi', gpus: parseAmdSmiMetric(amd.stdout) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
