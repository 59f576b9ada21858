// publish's generated manifest annotations (oci-annotations: true): the keys the build stages
// label the config with (src/action/oci-metadata.ts), `created` taken from the image itself so the
// annotation says what the labels say. The `annotations` input overrides them.
import { commitContextFromEnv, generatedOciMetadata, withOverrides } from '../action/oci-metadata.js';
import { readVerified } from '../registry/blob-bytes.js';
import { MAX_DOCUMENT } from '../registry/staging.js';
import { topManifest, type SourceImage } from '../registry/source.js';

/** The config's `created` of a single-image manifest whose config is on this runner; else undefined. */
async function imageCreated(image: SourceImage): Promise<Date | undefined> {
  const manifest = JSON.parse(topManifest(image).bytes.toString('utf8')) as { config?: { digest?: string; size?: number } };
  const blob = image.blobs.find((b) => b.digest === manifest.config?.digest);
  if (!blob?.file || blob.size > MAX_DOCUMENT) return undefined;
  // Read where it lies (in an archive, a layout) and checked against its digest here.
  const config = JSON.parse((await readVerified(blob.file, blob.digest, MAX_DOCUMENT)).toString('utf8')) as { created?: unknown };
  if (typeof config.created !== 'string') return undefined;
  const created = new Date(config.created);
  return Number.isNaN(created.getTime()) ? undefined : created;
}

/** The annotations publish adds: the generated ones under the `annotations` input, or that input alone. */
export async function manifestAnnotations(
  inputs: { annotations: Array<[string, string]>; ociAnnotations: boolean },
  image: SourceImage,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Array<[string, string]>> {
  if (!inputs.ociAnnotations) return inputs.annotations;
  return withOverrides(generatedOciMetadata(commitContextFromEnv(env), await imageCreated(image)), inputs.annotations);
}
