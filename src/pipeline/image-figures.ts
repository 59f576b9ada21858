// An image archive's layer count and its size compressed (as stored) and uncompressed (the layer
// tars, what the engine unpacks): for the comparison of builder: both.
import { layerBytes, withImage } from '../oci/image.js';
import { walkLayer } from '../reproducibility/layer-walk.js';

export interface ImageFigures {
  layers: number;
  compressedBytes: number;
  uncompressedBytes: number;
}

export async function imageFigures(archive: string): Promise<ImageFigures> {
  return withImage(archive, async (opened) => {
    const image = opened.model.images[0]!;
    const layers = image.manifest.layers;
    let uncompressedBytes = 0;
    for (const [i, layer] of layers.entries()) {
      const walked = await walkLayer(layerBytes(opened, layer), { label: archive, diffId: image.diffIds[i]!, digest: layer.digest, detectArtifacts: false }, () => undefined);
      uncompressedBytes += walked.bytes;
    }
    const compressedBytes = image.manifestBytes.length + image.configBytes.length + layers.reduce((n, l) => n + l.size, 0);
    return { layers: layers.length, compressedBytes, uncompressedBytes };
  });
}
