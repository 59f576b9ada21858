// GFX target names: the KFD topology's gfx_target_version (major*10000 + minor*100 + stepping)
// and HSA_OVERRIDE_GFX_VERSION ("11.0.0") both name an ISA such as gfx1151.

const KNOWN: Record<string, string> = {
  gfx1151: 'Strix Halo (Ryzen AI MAX, Radeon 8060S/8050S)',
  gfx1150: 'Strix Point (Radeon 890M/880M)',
  gfx1100: 'Radeon RX 7900 XTX/XT, PRO W7900/W7800',
  gfx1101: 'Radeon RX 7800/7700, PRO W7700',
  gfx1102: 'Radeon RX 7600',
  gfx1200: 'Radeon RX 9060',
  gfx1201: 'Radeon RX 9070',
  gfx942: 'Instinct MI300X/MI300A/MI325X',
  gfx950: 'Instinct MI350X/MI355X',
  gfx90a: 'Instinct MI210/MI250/MI250X',
  gfx908: 'Instinct MI100',
};

/** 110501 → gfx1151, 90402 → gfx942, 90010 → gfx90a; undefined for 0 (a CPU node) or garbage. */
export function gfxFromTargetVersion(version: number): string | undefined {
  if (!Number.isInteger(version) || version <= 0) return undefined;
  const major = Math.floor(version / 10000);
  const minor = Math.floor(version / 100) % 100;
  const stepping = version % 100;
  if (major < 6 || minor > 15 || stepping > 15) return undefined;
  return `gfx${major}${minor.toString(16)}${stepping.toString(16)}`;
}

/** HSA_OVERRIDE_GFX_VERSION "11.0.0" → gfx1100; undefined when it is not MAJOR.MINOR.STEPPING. */
export function gfxFromOverride(value: string): string | undefined {
  const match = /^\s*(\d+)\.(\d+)\.(\d+)\s*$/.exec(value);
  if (!match) return undefined;
  return gfxFromTargetVersion(Number(match[1]) * 10000 + Number(match[2]) * 100 + Number(match[3]));
}

export function isGfxName(name: string): boolean {
  return /^gfx[0-9]{1,2}[0-9a-f]{2}$/.test(name);
}

/** A human family name for the summary, when we know the target. */
export function gfxFamily(gfx: string): string | undefined {
  return KNOWN[gfx];
}
