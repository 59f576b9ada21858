// The GPUs as the kernel's KFD driver sees them: /sys/class/kfd/kfd/topology/nodes/*/properties.
// No ROCm userspace is needed to read it. Every path is under `root` so tests run on fixture trees.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gfxFromTargetVersion } from './gfx.js';

export interface KfdNode {
  node: number;
  /** e.g. gfx1151; undefined for CPU nodes. */
  gfx?: string;
  gfxTargetVersion: number;
  simdCount: number;
  vendorId: number;
  deviceId: number;
  /** /dev/dri/renderD<minor> of this GPU. */
  drmRenderMinor?: number;
  /** Sum of the node's memory banks (VRAM; on an APU the BIOS carve-out). */
  memoryBytes: number;
}

export const KFD_TOPOLOGY = 'sys/class/kfd/kfd/topology/nodes';

/** "key value" lines → numbers (the format of every KFD properties file). */
export function parseProperties(text: string): Map<string, number> {
  const props = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)\s+(-?\d+)\s*$/.exec(line);
    if (match) props.set(match[1]!, Number(match[2]));
  }
  return props;
}

/** All KFD nodes, GPUs and CPUs; [] when the driver is not loaded (no topology directory). */
export async function readKfdTopology(root = '/'): Promise<KfdNode[]> {
  const dir = join(root, KFD_TOPOLOGY);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const nodes: KfdNode[] = [];
  for (const entry of entries.filter((e) => /^\d+$/.test(e)).sort((a, b) => Number(a) - Number(b))) {
    let text: string;
    try {
      text = await readFile(join(dir, entry, 'properties'), 'utf8');
    } catch {
      continue;
    }
    const props = parseProperties(text);
    const version = props.get('gfx_target_version') ?? 0;
    const simdCount = props.get('simd_count') ?? 0;
    nodes.push({
      node: Number(entry),
      gfx: simdCount > 0 ? gfxFromTargetVersion(version) : undefined,
      gfxTargetVersion: version,
      simdCount,
      vendorId: props.get('vendor_id') ?? 0,
      deviceId: props.get('device_id') ?? 0,
      drmRenderMinor: simdCount > 0 ? props.get('drm_render_minor') : undefined,
      memoryBytes: await memoryBanks(join(dir, entry, 'mem_banks')),
    });
  }
  return nodes;
}

async function memoryBanks(dir: string): Promise<number> {
  let total = 0;
  const banks = await readdir(dir).catch(() => [] as string[]);
  for (const bank of banks) {
    const text = await readFile(join(dir, bank, 'properties'), 'utf8').catch(() => '');
    total += parseProperties(text).get('size_in_bytes') ?? 0;
  }
  return total;
}

export function gpuNodes(nodes: KfdNode[]): KfdNode[] {
  return nodes.filter((n) => n.simdCount > 0);
}
