// The GPU preflight: every check a row with a verdict and, when it is not a pass, a fix.
// Nothing is started before it; the readers take a root directory so fixture trees test it.
import { readDevices, deviceGroupIds, type DeviceNode, type Identity } from './devices.js';
import { gfxFamily, gfxFromOverride } from './gfx.js';
import { gpuNodes, readKfdTopology, type KfdNode } from './kfd.js';
import { parseAmdSmiStatic, parseRocminfo, parseRocmSmi, type SmiGpu } from './smi.js';
import { runTimed, type TimedResult } from '../tool/timed.js';
import { diskShortage, formatBytes, freeBytes, type DiskNeed } from '../tool/free-disk.js';

export type Verdict = 'pass' | 'warn' | 'fail' | 'info';

export interface PreflightRow {
  check: string;
  verdict: Verdict;
  detail: string;
  fix?: string;
}

export interface Gpu {
  node: number;
  gfx: string;
  name?: string;
  memoryBytes: number;
}

export interface PreflightResult {
  rows: PreflightRow[];
  gpus: Gpu[];
  /** Numeric GIDs owning /dev/kfd and the render nodes, for --group-add. */
  groupIds: number[];
  ok: boolean;
}

export interface PreflightOptions {
  /** Root of /sys and /dev (fixture trees in tests). */
  root?: string;
  identity?: Identity;
  expectedGfx?: string;
  /** The server's environment (HSA_OVERRIDE_GFX_VERSION is looked up here). */
  env?: Record<string, string | undefined>;
  toolTimeoutMs?: number;
  /** Environment the ROCm tools run with (PATH). */
  toolEnv?: NodeJS.ProcessEnv;
  /**
   * Who opens the devices: 'runner' (`command` mode: the server is a process of the runner's user) or
   * 'container' (image mode: `docker run --device` hands the nodes to the container, whose user opens
   * them with the --group-add GIDs, whatever the runner's user may do). Default 'runner'.
   */
  opener?: 'runner' | 'container';
}

/**
 * Only the sections parseAmdSmiStatic reads: unfiltered, `amd-smi static` queries every section
 * (board, cache, RAS, partition, limits, …) of every GPU, which takes long on many-GPU hosts.
 * ROCm/amdsmi amdsmi_cli/amdsmi_parser.py _add_static_parser: -a/--asic, -v/--vram;
 * amdsmi_cli/amdsmi_commands.py static_gpu: asic.market_name, asic.target_graphics_version, vram.size.
 */
export const AMD_SMI_STATIC_ARGS = ['static', '--asic', '--vram', '--json'];

const USER_GROUP_FIX = 'Add the runner user to the groups owning the devices (sudo usermod -aG render,video <runner user>) and restart the runner service.';

export async function runPreflight(opts: PreflightOptions = {}): Promise<PreflightResult> {
  const root = opts.root ?? '/';
  const rows: PreflightRow[] = [];
  const { kfd, render } = await readDevices(root, opts.identity);
  const opener = opts.opener ?? 'runner';
  rows.push(deviceRow('/dev/kfd', kfd, opener));
  if (render.length === 0) {
    rows.push({ check: '/dev/dri/renderD*', verdict: 'fail', detail: 'no render node', fix: 'Load the amdgpu driver (modprobe amdgpu); on a container-based runner pass --device /dev/dri.' });
  } else {
    for (const node of render) rows.push(deviceRow(node.path, node, opener));
  }

  const nodes = await readKfdTopology(root);
  const kfdGpus = gpuNodes(nodes).filter((n): n is KfdNode & { gfx: string } => n.gfx !== undefined);
  const tools = await readTools(opts.toolTimeoutMs ?? 15_000, opts.toolEnv);
  rows.push(...tools.rows);
  const gpus: Gpu[] = kfdGpus.map((n, i) => ({ node: n.node, gfx: n.gfx, name: nameFor(n.gfx, i, tools.names), memoryBytes: n.memoryBytes }));
  if (gpus.length === 0) {
    rows.push({
      check: 'GPUs (KFD topology)',
      verdict: 'fail',
      detail: nodes.length === 0 ? 'no KFD topology in /sys/class/kfd: the amdgpu driver is not loaded' : 'the KFD topology lists no GPU node',
      fix: 'Install and load the amdgpu driver (ROCm\'s amdgpu-dkms or a recent kernel), then check with rocminfo.',
    });
  } else {
    rows.push({ check: 'GPUs (KFD topology)', verdict: 'pass', detail: gpus.map((g) => `node ${g.node}: ${g.gfx}${g.name ? ` ${g.name}` : ''}`).join('; ') });
  }

  const targets = [...new Set(gpus.map((g) => g.gfx))];
  if (opts.expectedGfx) {
    const match = targets.includes(opts.expectedGfx);
    rows.push({
      check: 'expected-gfx',
      verdict: match || gpus.length === 0 ? (match ? 'pass' : 'fail') : 'fail',
      detail: match ? `${opts.expectedGfx} found` : `expected ${opts.expectedGfx}, found ${targets.join(', ') || 'no GPU'}`,
      fix: match ? undefined : `Run on a runner with a ${opts.expectedGfx} GPU (runs-on labels), or set expected-gfx to ${targets[0] ?? 'the runner\'s target'} with an image built for it.`,
    });
  }

  const override = opts.env?.HSA_OVERRIDE_GFX_VERSION;
  if (override !== undefined && override !== '') {
    const forced = gfxFromOverride(override);
    rows.push({
      check: 'HSA_OVERRIDE_GFX_VERSION',
      verdict: 'warn',
      detail: `set to ${override}${forced ? ` (${forced})` : ''}; the native target is ${targets.join(', ') || 'unknown'}: the override hides it from ROCm`,
      fix: `Remove HSA_OVERRIDE_GFX_VERSION (a leftover from ROCm releases without ${targets[0] ?? 'this target'}); use an image built for the native target.`,
    });
  }

  const groupIds = deviceGroupIds([kfd, ...render]);
  return { rows, gpus, groupIds, ok: !rows.some((r) => r.verdict === 'fail') };
}

function deviceRow(check: string, node: DeviceNode, opener: 'runner' | 'container'): PreflightRow {
  if (!node.exists) {
    return { check, verdict: 'fail', detail: 'missing', fix: 'Load the amdgpu driver (modprobe amdgpu, ROCm\'s amdgpu-dkms); on a container-based runner pass the device into the runner container.' };
  }
  const owner = `group ${node.groupName ?? '?'} (gid ${node.gid}), mode ${node.mode?.toString(8).padStart(4, '0')}`;
  if (node.canOpen) return { check, verdict: 'pass', detail: `readable and writable; ${owner}` };
  if (opener === 'runner') return { check, verdict: 'fail', detail: `cannot be opened read-write by this user; owned by ${owner}`, fix: USER_GROUP_FIX };
  // moby oci/devices_linux.go deviceFromPath: --device recreates the node in the container with the host's
  // mode, uid and gid; --group-add gives the container's process that GID, and it opens the node itself.
  const byGroup = node.gid !== undefined && node.gid !== 0 && (node.mode ?? 0) & 0o060 ? ` through --group-add ${node.gid}` : '';
  return {
    check,
    verdict: 'warn',
    detail: `the runner's user cannot open it (owned by ${owner}); the container opens it as its own user${byGroup}`,
    fix: byGroup ? 'Nothing for this stage; a server started on the runner itself (command) or by other tools would need the runner user in the owning group.' : `The container cannot open it either unless it runs as root: make it group-readable and -writable (a udev rule) or use docker-args --user root. ${USER_GROUP_FIX}`,
  };
}

/** Which name each tool gives GPU i (in KFD node order), rocminfo first. */
function nameFor(gfx: string, index: number, names: Array<Array<{ gfx?: string; name?: string }>>): string | undefined {
  for (const list of names) {
    const same = list.filter((g) => !g.gfx || g.gfx === gfx);
    const hit = list[index]?.gfx === gfx ? list[index] : same[0];
    if (hit?.name) return hit.name;
  }
  return gfxFamily(gfx);
}

interface ToolReadings {
  rows: PreflightRow[];
  names: Array<Array<{ gfx?: string; name?: string }>>;
}

async function readTools(timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<ToolReadings> {
  const rows: PreflightRow[] = [];
  const names: ToolReadings['names'] = [];
  const [rocminfo, rocmSmi, amdSmi] = await Promise.all([
    runTimed('rocminfo', [], { timeoutMs, env }),
    runTimed('rocm-smi', ['--showproductname', '--json'], { timeoutMs, env }),
    runTimed('amd-smi', AMD_SMI_STATIC_ARGS, { timeoutMs, env }),
  ]);
  const read = (tool: string, result: TimedResult, parse: (text: string) => Array<{ gfx?: string; name?: string }>): void => {
    const problem = toolProblem(tool, result, timeoutMs);
    if (problem && (result.missing || result.timedOut)) {
      rows.push(problem);
      return;
    }
    // A tool that exits non-zero after printing its document (amd-smi and rocm-smi do when one
    // query of one GPU fails) still told us the rest: use it, and say how it exited.
    let gpus: Array<{ gfx?: string; name?: string }>;
    try {
      gpus = parse(result.stdout);
    } catch (error) {
      rows.push(problem ?? { check: tool, verdict: 'warn', detail: `output not understood: ${(error as Error).message}` });
      return;
    }
    names.push(gpus);
    const listed = gpus.length ? gpus.map((g) => [g.gfx, g.name].filter(Boolean).join(' ')).join('; ') : 'no GPU listed';
    rows.push({ check: tool, verdict: 'info', detail: problem ? `${listed} (${problem.detail})` : listed });
  };
  read('rocminfo', rocminfo, (t) => parseRocminfo(t).filter((a) => a.deviceType === 'GPU').map((a) => ({ gfx: a.isa[0]?.split(':')[0] ?? a.name, name: a.marketingName })));
  read('rocm-smi', rocmSmi, (t) => parseRocmSmi(t).map(named));
  read('amd-smi', amdSmi, (t) => parseAmdSmiStatic(t).map(named));
  return { rows, names };
}

function named(g: SmiGpu): { gfx?: string; name?: string } {
  return { gfx: g.gfx, name: g.marketName };
}

/** A row for a tool that is absent, hung or failed; undefined when it answered. */
export function toolProblem(tool: string, result: TimedResult, timeoutMs: number): PreflightRow | undefined {
  if (result.missing) return { check: tool, verdict: 'info', detail: 'not installed (optional)' };
  if (result.timedOut) {
    return { check: tool, verdict: 'warn', detail: `did not answer within ${Math.round(timeoutMs / 1000)} s and was killed`, fix: `${tool} hangs on some drivers (amd-smi on gfx1151 is known to); update ROCm on the host. The smoke test does not need it.` };
  }
  if (result.exitCode !== 0) {
    const last = (result.stderr || result.stdout).trim().split('\n').pop() ?? '';
    return { check: tool, verdict: 'warn', detail: `exited ${result.exitCode}: ${last.slice(0, 200)}` };
  }
  return undefined;
}

/** Free space where the image goes (the engine's data root) against what it needs, in the words of src/tool/free-disk.ts. */
export async function diskRow(path: string, need: DiskNeed, what: string): Promise<PreflightRow> {
  const free = await freeBytes(path).catch(() => undefined);
  if (free === undefined) return { check: 'free disk', verdict: 'warn', detail: `cannot stat ${path}` };
  const shortage = diskShortage('smoke-test', path, need, what, free);
  if (shortage) {
    return { check: 'free disk', verdict: 'fail', detail: shortage, fix: 'Free space on the runner (old images: docker image prune; old model snapshots in model-cache).' };
  }
  return { check: 'free disk', verdict: 'pass', detail: `${formatBytes(free)} free under ${path} (${what}: about ${formatBytes(need.bytes)})` };
}
