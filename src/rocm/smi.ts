// Parsers for ROCm's own tools, each tolerant of what real installs print: rocminfo's text,
// `rocm-smi --json` (every value a string, WARNING lines before the JSON) and
// `amd-smi static|metric --json` (a bare list in older releases, {"gpu_data": [...]} in newer, "N/A" fields).

export interface RocminfoAgent {
  name: string;
  marketingName?: string;
  deviceType?: string;
  computeUnits?: number;
  isa: string[];
}

/** The agents of `rocminfo`; the GPUs are those with Device Type GPU. */
export function parseRocminfo(text: string): RocminfoAgent[] {
  const agents: RocminfoAgent[] = [];
  let current: RocminfoAgent | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*Agent \d+\s*$/.test(line)) {
      current = { name: '', isa: [] };
      agents.push(current);
      continue;
    }
    if (!current) continue;
    const field = /^(\s*)([A-Za-z][\w ()#/-]*?):\s*(.*)$/.exec(line);
    if (!field) continue;
    const [, indent, key, value] = field as unknown as [string, string, string, string];
    if (key === 'Name' && indent.length <= 2) current.name = value.trim();
    else if (key === 'Name' && /^amdgcn-/.test(value)) current.isa.push(value.trim().replace(/^amdgcn-amd-amdhsa--/, ''));
    else if (key === 'Marketing Name') current.marketingName = value.trim();
    else if (key === 'Device Type') current.deviceType = value.trim();
    else if (key === 'Compute Unit') current.computeUnits = Number(value.trim());
  }
  return agents;
}

/** The JSON document in a tool's stdout, skipping banner and WARNING lines before it. */
export function extractJson(text: string): unknown {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!.trimStart();
    if (!head.startsWith('{') && !head.startsWith('[')) continue;
    try {
      return JSON.parse(lines.slice(i).join('\n'));
    } catch {
      // A bracket in a warning line: keep looking.
    }
  }
  throw new Error(`no JSON document in the output (${JSON.stringify(text.slice(0, 120))})`);
}

/** A number from "45.0", 45, "512 MB", {"value": 45, "unit": "C"}; undefined for "N/A" and the like. */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const match = /^\s*(-?\d+(?:\.\d+)?)/.exec(value);
    return match ? Number(match[1]) : undefined;
  }
  if (value && typeof value === 'object' && 'value' in value) return numberOf((value as { value: unknown }).value);
  return undefined;
}

function stringOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' || /^n\/?a$/i.test(text) ? undefined : text;
}

const MIB = 1024 * 1024;

/** A value with a unit → bytes ({"value": 512, "unit": "MB"}, "512 MB"; a bare number is `unit`). */
function bytesOf(value: unknown, unit: 'B' | 'MB'): number | undefined {
  const n = numberOf(value);
  if (n === undefined) return undefined;
  const declared = value && typeof value === 'object' && 'unit' in value ? String((value as { unit: unknown }).unit) : typeof value === 'string' ? value.replace(/^[\s\d.-]+/, '') : unit;
  if (/^(GB|GiB)$/i.test(declared.trim())) return n * 1024 * MIB;
  if (/^(MB|MiB)$/i.test(declared.trim())) return n * MIB;
  if (/^(KB|KiB)$/i.test(declared.trim())) return n * 1024;
  return n;
}

export interface SmiGpu {
  index: number;
  marketName?: string;
  gfx?: string;
  vramTotalBytes?: number;
  vramUsedBytes?: number;
  temperatureC?: number;
  powerW?: number;
}

/** `rocm-smi --showproductname --showtemp --showpower --showmeminfo vram --json`: {"card0": {...}}. */
export function parseRocmSmi(text: string): SmiGpu[] {
  const doc = extractJson(text) as Record<string, Record<string, unknown>>;
  const gpus: SmiGpu[] = [];
  for (const [card, fields] of Object.entries(doc ?? {})) {
    const match = /^card(\d+)$/.exec(card);
    if (!match || !fields || typeof fields !== 'object') continue;
    const pick = (pattern: RegExp): unknown => Object.entries(fields).find(([k]) => pattern.test(k))?.[1];
    gpus.push({
      index: Number(match[1]),
      // "Card series" until ROCm 6.0, "Card Series" since (ROCm/rocm_smi_lib python_smi_tools/rocm_smi.py,
      // showProductName, renamed in 4b5ccb5 "Align all device identifier details").
      marketName: stringOf(pick(/^Card Series$/i)) ?? stringOf(pick(/^Card SKU$/)) ?? stringOf(pick(/^Device Name$/)),
      gfx: stringOf(pick(/^GFX Version$/)),
      vramTotalBytes: numberOf(pick(/^VRAM Total Memory \(B\)$/)),
      vramUsedBytes: numberOf(pick(/^VRAM Total Used Memory \(B\)$/)),
      temperatureC: numberOf(pick(/^Temperature \(Sensor edge\)/)) ?? numberOf(pick(/^Temperature \(Sensor junction\)/)),
      powerW: numberOf(pick(/Graphics Package Power \(W\)$/)) ?? numberOf(pick(/Socket Power \(W\)$/)),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

function amdSmiEntries(text: string): Array<Record<string, unknown>> {
  const doc = extractJson(text);
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray((doc as { gpu_data?: unknown }).gpu_data) ? (doc as { gpu_data: unknown[] }).gpu_data : undefined;
  if (!list) throw new Error('amd-smi JSON is neither a list of GPUs nor {"gpu_data": [...]}');
  return list.filter((e): e is Record<string, unknown> => !!e && typeof e === 'object');
}

function section(entry: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = entry[name];
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `amd-smi static --json`: names, gfx targets and VRAM size. */
export function parseAmdSmiStatic(text: string): SmiGpu[] {
  return amdSmiEntries(text).map((entry, i) => {
    const asic = section(entry, 'asic');
    const vram = section(entry, 'vram');
    return {
      index: numberOf(entry.gpu) ?? i,
      marketName: stringOf(asic.market_name),
      gfx: stringOf(asic.target_graphics_version),
      vramTotalBytes: bytesOf(vram.size, 'MB'),
    };
  });
}

/** `amd-smi metric --json`: temperature, power and VRAM use. */
export function parseAmdSmiMetric(text: string): SmiGpu[] {
  return amdSmiEntries(text).map((entry, i) => {
    const temperature = section(entry, 'temperature');
    const power = section(entry, 'power');
    const memory = section(entry, 'mem_usage');
    return {
      index: numberOf(entry.gpu) ?? i,
      temperatureC: numberOf(temperature.edge) ?? numberOf(temperature.hotspot),
      powerW: numberOf(power.socket_power) ?? numberOf(power.average_socket_power),
      vramTotalBytes: bytesOf(memory.total_vram, 'MB'),
      vramUsedBytes: bytesOf(memory.used_vram, 'MB'),
    };
  });
}
