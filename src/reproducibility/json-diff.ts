// Field-by-field differences between two index, manifest or config documents, named the way a
// person reads them: "created", "history[3].created", "config.Env.PATH", "config.Labels.x".
import type { DifferenceKind, DiffValue } from './types.js';

export interface FieldDifference {
  field: string;
  kind: DifferenceKind;
  a: DiffValue;
  b: DiffValue;
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function toValue(v: Json): DiffValue {
  if (v === undefined) return null;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

function same(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Differences of two JSON values under `path`, down to leaves (arrays of scalars compare whole). */
export function deepDiff(path: string, a: Json, b: Json, kind: DifferenceKind, out: FieldDifference[]): void {
  if (same(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const key of unionKeys(a, b)) deepDiff(path ? `${path}.${key}` : key, a[key], b[key], kind, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.some((x) => typeof x === 'object' && x !== null)) {
    a.forEach((x, i) => deepDiff(`${path}[${i}]`, x, b[i], kind, out));
    return;
  }
  out.push({ field: path, kind, a: toValue(a), b: toValue(b) });
}

function unionKeys(a: Record<string, Json>, b: Record<string, Json>): string[] {
  const keys = Object.keys(a);
  for (const k of Object.keys(b)) if (!(k in a)) keys.push(k);
  return keys;
}

function envMap(env: Json): Map<string, string> | undefined {
  if (!Array.isArray(env) || !env.every((e) => typeof e === 'string')) return undefined;
  const map = new Map<string, string>();
  for (const e of env as string[]) {
    const eq = e.indexOf('=');
    map.set(eq === -1 ? e : e.slice(0, eq), eq === -1 ? '' : e.slice(eq + 1));
  }
  return map;
}

/** The config's differences; rootfs.diff_ids are left to the layer comparison. */
export function diffConfig(a: Record<string, Json>, b: Record<string, Json>): FieldDifference[] {
  const out: FieldDifference[] = [];
  const order = ['created', 'author', 'architecture', 'os', 'os.version', 'os.features', 'variant', 'config', 'rootfs', 'history'];
  const keys = [...order.filter((k) => k in a || k in b), ...unionKeys(a, b).filter((k) => !order.includes(k))];
  for (const key of keys) {
    const va = a[key];
    const vb = b[key];
    if (same(va, vb)) continue;
    if (key === 'created') out.push({ field: 'created', kind: 'config-created', a: toValue(va), b: toValue(vb) });
    else if (key === 'config' && isObject(va) && isObject(vb)) diffContainerConfig(va, vb, out);
    else if (key === 'rootfs' && isObject(va) && isObject(vb)) {
      const { diff_ids: idsA, ...restA } = va;
      const { diff_ids: idsB, ...restB } = vb;
      deepDiff('rootfs', restA, restB, 'config-field', out);
      const la = Array.isArray(idsA) ? idsA.length : 0;
      const lb = Array.isArray(idsB) ? idsB.length : 0;
      if (la !== lb) out.push({ field: 'rootfs.diff_ids (count)', kind: 'layer-count', a: la, b: lb });
    } else if (key === 'history' && Array.isArray(va) && Array.isArray(vb)) diffHistory(va, vb, out);
    else deepDiff(key, va, vb, 'config-field', out);
  }
  return out;
}

function diffContainerConfig(a: Record<string, Json>, b: Record<string, Json>, out: FieldDifference[]): void {
  for (const key of unionKeys(a, b)) {
    const va = a[key];
    const vb = b[key];
    if (same(va, vb)) continue;
    const field = `config.${key}`;
    const envA = key === 'Env' ? envMap(va ?? []) : undefined;
    const envB = key === 'Env' ? envMap(vb ?? []) : undefined;
    if (envA && envB) {
      const before = out.length;
      for (const name of new Set([...envA.keys(), ...envB.keys()])) {
        const x = envA.get(name);
        const y = envB.get(name);
        if (x !== y) out.push({ field: `${field}.${name}`, kind: 'config-field', a: x ?? null, b: y ?? null });
      }
      if (out.length === before) out.push({ field: `${field} (order)`, kind: 'config-field', a: toValue(va), b: toValue(vb) });
    } else if ((key === 'Labels' || key === 'ExposedPorts' || key === 'Volumes') && (isObject(va) || va == null) && (isObject(vb) || vb == null)) {
      const x = (va ?? {}) as Record<string, Json>;
      const y = (vb ?? {}) as Record<string, Json>;
      for (const k of unionKeys(x, y)) {
        if (!same(x[k], y[k])) out.push({ field: `${field}.${k}`, kind: 'config-field', a: k in x ? toValue(x[k]) : null, b: k in y ? toValue(y[k]) : null });
      }
    } else deepDiff(field, va, vb, 'config-field', out);
  }
}

function diffHistory(a: Json[], b: Json[], out: FieldDifference[]): void {
  if (a.length !== b.length) out.push({ field: 'history (length)', kind: 'config-field', a: a.length, b: b.length });
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (same(x, y)) continue;
    if (isObject(x) && isObject(y)) {
      for (const key of unionKeys(x, y)) {
        if (same(x[key], y[key])) continue;
        out.push({
          field: `history[${i}].${key}`,
          kind: key === 'created' ? 'history-created' : 'config-field',
          a: toValue(x[key]),
          b: toValue(y[key]),
        });
      }
    } else out.push({ field: `history[${i}]`, kind: 'config-field', a: toValue(x), b: toValue(y) });
  }
}

/** Manifest or index differences that the ladder does not already show (not the config/layer digests). */
export function diffDocument(a: Record<string, Json>, b: Record<string, Json>, skip: string[], kind: DifferenceKind): FieldDifference[] {
  const out: FieldDifference[] = [];
  for (const key of unionKeys(a, b)) {
    if (skip.includes(key)) continue;
    if (key === 'annotations' && (isObject(a[key]) || a[key] == null) && (isObject(b[key]) || b[key] == null)) {
      const x = (a[key] ?? {}) as Record<string, Json>;
      const y = (b[key] ?? {}) as Record<string, Json>;
      for (const k of unionKeys(x, y)) {
        if (!same(x[k], y[k])) out.push({ field: `annotations.${k}`, kind, a: toValue(x[k]), b: toValue(y[k]) });
      }
    } else deepDiff(key, a[key], b[key], kind, out);
  }
  return out;
}

export { same as jsonEqual };
