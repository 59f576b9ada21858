// The comparison engine of the verify-reproducibility stage (no GitHub dependency).
export { compareImages, compareModels, DEFAULT_MAX_DIFFERENCES, type CompareImagesOptions, type LayerBackend } from './compare.js';
export {
  compareDescriptions,
  describeImage,
  readDescription,
  writeDescription,
  DESCRIPTION_SCHEMA,
  type FileRecord,
  type ImageDescription,
  type LayerDescription,
  type PlatformDescription,
} from './describe.js';
export { renderMarkdown, type MarkdownOptions } from './markdown.js';
export { causeOf, type CauseAndFix } from './causes.js';
export { firstDifference } from './file-compare.js';
export { openImage, type ImageModel, type OpenedImage, type PlatformImage } from '../oci/image.js';
export { ImageArchiveError } from '../oci/bounds.js';
export type * from './types.js';
