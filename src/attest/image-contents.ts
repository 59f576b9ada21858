// What an image holds, for its SBOM: the Debian packages (dpkg status), the Python distributions
// (dist-info METADATA, egg-info PKG-INFO), the Nix store paths, and the vLLM and torch versions
// with their ROCm build (torch/version.py's hip, the +rocm local version, PYTORCH_ROCM_ARCH).
// Layers are streamed in order through the shared bounded reader and the final filesystem is what
// counts (whiteouts honoured). Only the few files above are read, each up to a cap, and parsed at
// once; what is kept is capped too, so a hostile image cannot make this hold more than a few MiB.
import { ImageArchiveError } from '../oci/bounds.js';
import type { EntrySink, TarEntry } from '../oci/tar.js';
import { walkLayerEntries } from '../reproducibility/layer-walk.js';

export interface LayerSource {
  digest: string;
  diffId: string;
  /** The blob's bytes, checked against its digest by the producer as they stream. */
  bytes(): AsyncIterable<Buffer>;
}

export interface ImageSource {
  label: string;
  config: Record<string, unknown>;
  layers: LayerSource[];
}

export interface Package {
  ecosystem: 'deb' | 'pypi' | 'nix';
  name: string;
  version: string;
  /** Where it was found in the image. */
  path: string;
  arch?: string;
  /** Nix: the store path's hash part. */
  hash?: string;
}

export interface ImageContents {
  packages: Package[];
  /** The distribution (os-release ID and VERSION_ID), when the image has one. */
  os?: { id: string; version?: string };
  torch?: { version: string; hip?: string; path: string };
  vllm?: { version: string; path: string };
  /** ROCm GPU targets the image was built for (PYTORCH_ROCM_ARCH in the config's Env). */
  rocmTargets?: string[];
  /** More packages than MAX_PACKAGES, or a file over its cap: the list is incomplete. */
  truncated: string[];
}

export const CONTENT_LIMITS = {
  packages: 50_000,
  dpkgStatusBytes: 32 << 20,
  metadataBytes: 64 << 10,
  smallFileBytes: 64 << 10,
  fieldChars: 256,
} as const;

type Found =
  | { kind: 'dpkg'; packages: Package[] }
  | { kind: 'python'; pkg: Package }
  | { kind: 'nix'; pkg: Package }
  | { kind: 'os'; id: string; version?: string }
  | { kind: 'torch'; version: string; hip?: string }
  | { kind: 'vllm'; version: string };

const NIX_STORE = /^nix\/store\/([0-9a-df-np-sv-z]{32})-([^/]+)$/;
const DIST_INFO = /(^|\/)([^/]+)\.(dist-info\/METADATA|egg-info\/PKG-INFO)$/;

/** What reading a file yields, or undefined for a file not looked at. */
function interest(path: string): { cap: number; parse: (body: Buffer, path: string) => Found | undefined } | undefined {
  if (path === 'var/lib/dpkg/status' || /^var\/lib\/dpkg\/status\.d\/[^/]+$/.test(path)) return { cap: CONTENT_LIMITS.dpkgStatusBytes, parse: (b, p) => ({ kind: 'dpkg', packages: parseDpkgStatus(b.toString('utf8'), p) }) };
  if (DIST_INFO.test(path)) return { cap: CONTENT_LIMITS.metadataBytes, parse: parsePythonMetadata };
  if (path === 'etc/os-release' || path === 'usr/lib/os-release') return { cap: CONTENT_LIMITS.smallFileBytes, parse: parseOsRelease };
  if (/(^|\/)site-packages\/torch\/version\.py$/.test(path)) return { cap: CONTENT_LIMITS.smallFileBytes, parse: parseTorchVersion };
  if (/(^|\/)site-packages\/vllm\/_version\.py$/.test(path)) return { cap: CONTENT_LIMITS.smallFileBytes, parse: parseVllmVersion };
  return undefined;
}

function field(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean.length > CONTENT_LIMITS.fieldChars ? clean.slice(0, CONTENT_LIMITS.fieldChars) : clean;
}

/** dpkg's status file: RFC 822-style stanzas; only packages whose Status ends in "installed" count. */
export function parseDpkgStatus(text: string, path: string): Package[] {
  const out: Package[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (m) fields[m[1]!.toLowerCase()] = m[2]!;
    }
    if (!fields.package || !fields.version) continue;
    // A stanza without Status is a distroless status.d entry: installed by construction.
    if (fields.status !== undefined && !/\sinstalled$/.test(fields.status.trim())) continue;
    out.push({ ecosystem: 'deb', name: field(fields.package), version: field(fields.version), path, ...(fields.architecture ? { arch: field(fields.architecture) } : {}) });
    if (out.length >= CONTENT_LIMITS.packages) break;
  }
  return out;
}

/** Core metadata (PEP 566): Name and Version headers, before the first blank line. */
export function parsePythonMetadata(body: Buffer, path: string): Found | undefined {
  const head = body.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '';
  const name = /^Name:\s*(.+)$/m.exec(head)?.[1];
  const version = /^Version:\s*(.+)$/m.exec(head)?.[1];
  if (!name || !version) return undefined;
  return { kind: 'python', pkg: { ecosystem: 'pypi', name: field(name), version: field(version), path: path.replace(/\/(METADATA|PKG-INFO)$/, '') } };
}

function parseOsRelease(body: Buffer): Found | undefined {
  const text = body.toString('utf8');
  const value = (key: string) => /^(?:"|')?(.*?)(?:"|')?$/.exec((new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1] ?? '').trim())?.[1];
  const id = value('ID');
  if (!id) return undefined;
  const version = value('VERSION_ID');
  return { kind: 'os', id: field(id), ...(version ? { version: field(version) } : {}) };
}

/** torch/version.py as torch's setup writes it: `__version__ = '2.5.1+rocm6.2'`, `hip: Optional[str] = '6.2.41133-…'`. */
export function parseTorchVersion(body: Buffer): Found | undefined {
  const text = body.toString('utf8');
  const version = /^__version__(?:\s*:[^=\n]*)?\s*=\s*['"]([^'"\n]+)['"]/m.exec(text)?.[1];
  if (!version) return undefined;
  const hip = /^hip(?:\s*:[^=\n]*)?\s*=\s*['"]([^'"\n]+)['"]/m.exec(text)?.[1];
  return { kind: 'torch', version: field(version), ...(hip ? { hip: field(hip) } : {}) };
}

/** vllm/_version.py as setuptools-scm writes it: `__version__ = version = '0.6.3+rocm624'`. */
export function parseVllmVersion(body: Buffer): Found | undefined {
  const version = /^(?:__version__|version)(?:\s*:[^=\n]*)?\s*=\s*(?:\w+\s*=\s*)?['"]([^'"\n]+)['"]/m.exec(body.toString('utf8'))?.[1];
  return version ? { kind: 'vllm', version: field(version) } : undefined;
}

/** Nix's parseDrvName: the version starts at the first '-' followed by a digit. */
export function nixNameVersion(name: string): { name: string; version: string } {
  const m = /^(.*?)-(\d.*)$/.exec(name);
  return m ? { name: m[1]!, version: m[2]! } : { name, version: '' };
}

function normal(name: string): string {
  return name.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

export async function readImageContents(image: ImageSource): Promise<ImageContents> {
  // Path → what it holds, in the final filesystem; a later layer's file or whiteout replaces it.
  const found = new Map<string, Found>();
  const truncated: string[] = [];
  let tracked = 0;
  const remove = (prefix: string, exact?: string): void => {
    for (const key of [...found.keys()]) if (key === exact || key.startsWith(prefix)) found.delete(key);
  };
  const keep = (path: string, item: Found | undefined): void => {
    found.delete(path);
    if (!item) return;
    if (tracked >= CONTENT_LIMITS.packages) {
      const note = `more than ${CONTENT_LIMITS.packages} packages; the rest are not listed`;
      if (!truncated.includes(note)) truncated.push(note);
      return;
    }
    tracked += item.kind === 'dpkg' ? item.packages.length : 1;
    found.set(path, item);
  };

  for (const [i, layer] of image.layers.entries()) {
    const opaque: string[] = [];
    const visitor = (entry: TarEntry): EntrySink | undefined => {
      const path = normal(entry.name);
      const base = path.slice(path.lastIndexOf('/') + 1);
      const dir = path.slice(0, path.length - base.length);
      if (base === '.wh..wh..opq') {
        opaque.push(dir);
        return undefined;
      }
      if (base.startsWith('.wh.')) {
        const target = dir + base.slice(4);
        remove(`${target}/`, target);
        return undefined;
      }
      const store = NIX_STORE.exec(path);
      if (store) {
        const { name, version } = nixNameVersion(store[2]!);
        keep(path, { kind: 'nix', pkg: { ecosystem: 'nix', name: field(name), version: field(version), hash: store[1]!, path: `/${path}` } });
        return undefined;
      }
      if (entry.type !== 'file') {
        if (found.has(path)) found.delete(path);
        return undefined;
      }
      const wanted = interest(path);
      if (!wanted) return undefined;
      if (entry.size > wanted.cap && wanted.cap !== CONTENT_LIMITS.metadataBytes) {
        truncated.push(`${path} is ${entry.size} bytes, over the ${wanted.cap}-byte cap: not read`);
        found.delete(path);
        return undefined;
      }
      // METADATA: the headers come first, so the first bytes are enough.
      const chunks: Buffer[] = [];
      let held = 0;
      return {
        data(chunk) {
          if (held >= wanted.cap) return;
          const part = chunk.subarray(0, wanted.cap - held);
          chunks.push(part);
          held += part.length;
        },
        end() {
          keep(path, wanted.parse(Buffer.concat(chunks), path));
        },
      };
    };
    // Opaque directories hide the lower layers' entries only: applied before this layer's own.
    const lowerOpaque = async (): Promise<void> => {
      for (const dir of opaque.splice(0)) for (const key of [...found.keys()]) if (key.startsWith(dir) && !seenThisLayer.has(key)) found.delete(key);
    };
    const seenThisLayer = new Set<string>();
    const track = (entry: TarEntry): EntrySink | undefined => {
      seenThisLayer.add(normal(entry.name));
      return visitor(entry);
    };
    try {
      await walkLayerEntries(layer.bytes(), { label: `${image.label} layer ${i}`, diffId: layer.diffId, digest: layer.digest }, track, lowerOpaque);
      await lowerOpaque();
    } catch (error) {
      if (error instanceof ImageArchiveError) throw error;
      throw new ImageArchiveError(`${image.label}: layer ${layer.digest} cannot be read for the SBOM: ${(error as Error).message}`);
    }
  }

  const contents: ImageContents = { packages: [], truncated };
  for (const item of found.values()) {
    if (item.kind === 'dpkg') contents.packages.push(...item.packages);
    else if (item.kind === 'python' || item.kind === 'nix') contents.packages.push(item.pkg);
    else if (item.kind === 'os') contents.os = { id: item.id, ...(item.version ? { version: item.version } : {}) };
  }
  for (const [path, item] of found) {
    if (item.kind === 'torch') contents.torch = { version: item.version, ...(item.hip ? { hip: item.hip } : {}), path: `/${path}` };
    if (item.kind === 'vllm') contents.vllm = { version: item.version, path: `/${path}` };
  }
  // dist-info is the fallback for a vllm without _version.py and a torch without version.py.
  const dist = (name: string) => contents.packages.find((p) => p.ecosystem === 'pypi' && p.name.toLowerCase() === name);
  if (!contents.vllm && dist('vllm')) contents.vllm = { version: dist('vllm')!.version, path: `/${dist('vllm')!.path}` };
  if (!contents.torch && dist('torch')) contents.torch = { version: dist('torch')!.version, path: `/${dist('torch')!.path}` };
  const env = (image.config.config as { Env?: unknown } | undefined)?.Env;
  const arch = Array.isArray(env) ? env.find((e): e is string => typeof e === 'string' && e.startsWith('PYTORCH_ROCM_ARCH=')) : undefined;
  if (arch) contents.rocmTargets = arch.slice('PYTORCH_ROCM_ARCH='.length).split(/[;,\s]+/).filter((t) => /^gfx[0-9a-f]+[a-z0-9:+-]*$/i.test(t)).slice(0, 64);
  contents.packages.sort((a, b) => a.ecosystem.localeCompare(b.ecosystem) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version) || a.path.localeCompare(b.path));
  return contents;
}
