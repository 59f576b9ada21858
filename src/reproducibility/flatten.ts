// The filesystem an image's layers build up, as a container runtime applies them: each layer's
// entries in order, whiteouts (`.wh.NAME`) deleting a path and what is under it, opaque
// directories (`.wh..wh..opq`) hiding everything lower layers put there. Used when two images
// hold a different number of layers, to tell "same filesystem, different layers" from real
// differences. Memory: one summary per path of the final filesystem, per side.
import type { LayerBackend, Side } from './compare.js';
import type { PlatformImage } from '../oci/image.js';
import type { FileSummary } from './types.js';

const normal = (path: string): string => path.replace(/^(\.\/|\/)+/, '') || '.';

export async function flatten(backend: LayerBackend, side: Side, image: PlatformImage): Promise<{ files: Map<string, FileSummary>; bytes: number }> {
  const files = new Map<string, FileSummary>();
  let bytes = 0;
  for (let i = 0; i < image.manifest.layers.length; i++) {
    const layer: FileSummary[] = [];
    bytes += await backend.walk(side, image, i, (s) => void layer.push(s));
    const remove = (prefix: string, self: boolean): void => {
      if (self) files.delete(prefix);
      const under = prefix === '.' ? '' : `${prefix}/`;
      for (const key of files.keys()) if (key.startsWith(under) && key !== prefix) files.delete(key);
    };
    for (const s of layer) {
      const path = normal(s.path);
      const slash = path.lastIndexOf('/');
      const dir = slash === -1 ? '.' : path.slice(0, slash);
      const base = path.slice(slash + 1);
      if (base === '.wh..wh..opq') remove(dir, false);
      else if (base.startsWith('.wh.')) remove(dir === '.' ? base.slice(4) : `${dir}/${base.slice(4)}`, true);
    }
    for (const s of layer) {
      const path = normal(s.path);
      if (!path.split('/').pop()!.startsWith('.wh.')) files.set(path, { ...s, path });
    }
  }
  return { files, bytes };
}
