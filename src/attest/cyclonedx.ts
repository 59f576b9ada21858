// The SBOM as a CycloneDX 1.5 JSON document (https://cyclonedx.org/docs/1.5/json/, the
// bom-1.5.schema.json of CycloneDX/specification), written by hand: the few fields an image's
// package list needs. Package URLs follow the purl spec (github.com/package-url/purl-spec,
// PURL-TYPES.rst: deb, pypi; nix is not yet a registered type there and is used as proposed).
// Nothing here depends on the clock: the same image gives the same document.
import { createHash } from 'node:crypto';
import type { ImageContents, Package } from './image-contents.js';

export interface CycloneDxComponent {
  type: 'library' | 'application' | 'container' | 'operating-system';
  'bom-ref': string;
  name: string;
  version?: string;
  purl?: string;
  properties?: Array<{ name: string; value: string }>;
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.5';
  serialNumber: string;
  version: 1;
  metadata: {
    tools: { components: Array<{ type: 'application'; name: string; version: string }> };
    component: CycloneDxComponent;
    properties: Array<{ name: string; value: string }>;
  };
  components: CycloneDxComponent[];
}

/** purl's percent-encoding of a name, version or qualifier value. */
function enc(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function purlOf(pkg: Package, os?: { id: string; version?: string }): string {
  switch (pkg.ecosystem) {
    case 'deb': {
      const qualifiers = [pkg.arch ? `arch=${enc(pkg.arch)}` : '', os?.version ? `distro=${enc(`${os.id}-${os.version}`)}` : ''].filter(Boolean).join('&');
      return `pkg:deb/${enc((os?.id ?? 'debian').toLowerCase())}/${enc(pkg.name)}@${enc(pkg.version)}${qualifiers ? `?${qualifiers}` : ''}`;
    }
    case 'pypi':
      // PEP 503 normalisation, as the purl spec asks for pypi names.
      return `pkg:pypi/${enc(pkg.name.toLowerCase().replace(/[-_.]+/g, '-'))}@${enc(pkg.version)}`;
    case 'nix':
      return `pkg:nix/${enc(pkg.name)}${pkg.version ? `@${enc(pkg.version)}` : ''}${pkg.hash ? `?outpath=${enc(pkg.path)}` : ''}`;
  }
}

/** A urn:uuid derived from the image digest (RFC 4122 layout, version 5 style bits), so the document is deterministic. */
function serialNumber(digest: string): string {
  const h = createHash('sha256').update(`vllm-rocm-action sbom ${digest}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function cycloneDx(image: { name: string; digest: string }, contents: ImageContents, tool: { name: string; version: string }): CycloneDxBom {
  const properties: Array<{ name: string; value: string }> = [];
  const add = (name: string, value: string | undefined) => value && properties.push({ name: `vllm-rocm-action:${name}`, value });
  add('vllm:version', contents.vllm?.version);
  add('torch:version', contents.torch?.version);
  add('torch:hip', contents.torch?.hip);
  add('rocm:targets', contents.rocmTargets?.join(';'));
  for (const note of contents.truncated) add('incomplete', note);
  const repository = image.name.split('/').pop()!;
  const components: CycloneDxComponent[] = [];
  if (contents.os) {
    components.push({ type: 'operating-system', 'bom-ref': `os:${contents.os.id}`, name: contents.os.id, ...(contents.os.version ? { version: contents.os.version } : {}) });
  }
  const refs = new Set<string>();
  for (const pkg of contents.packages) {
    const purl = purlOf(pkg, contents.os);
    // bom-refs are unique in a document; the same package found twice keeps one entry per path.
    let ref = purl;
    for (let n = 2; refs.has(ref); n++) ref = `${purl}#${n}`;
    refs.add(ref);
    const props = [{ name: 'vllm-rocm-action:path', value: pkg.path.startsWith('/') ? pkg.path : `/${pkg.path}` }];
    if (pkg.ecosystem === 'pypi' && pkg.name.toLowerCase() === 'torch' && contents.torch?.hip) props.push({ name: 'vllm-rocm-action:torch:hip', value: contents.torch.hip });
    components.push({ type: 'library', 'bom-ref': ref, name: pkg.name, ...(pkg.version ? { version: pkg.version } : {}), purl, properties: props });
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: serialNumber(image.digest),
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: tool.name, version: tool.version }] },
      component: {
        type: 'container',
        'bom-ref': `${image.name}@${image.digest}`,
        name: image.name,
        version: image.digest,
        // purl's oci type: the digest is the version, the repository a qualifier.
        purl: `pkg:oci/${enc(repository)}@${enc(image.digest)}?repository_url=${enc(image.name)}`,
      },
      properties,
    },
    components,
  };
}
