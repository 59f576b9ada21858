// Bundles each stage's compiled entry (lib/src/<stage>/index.js) into dist/<stage>/index.js with ncc,
// and the command line's (lib/src/cli/index.js) into dist/cli/index.js.
import { readdirSync, existsSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import ncc from '@vercel/ncc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stages = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'src', d.name, 'index.ts')))
  .map((d) => d.name);
// The root action.yml runs the whole pipeline; cli is the command line (package.json's bin).
stages.push('pipeline', 'cli');
if (stages.length === 0) throw new Error('no stages found under actions/ with a src/<stage>/index.ts');

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const stage of stages) {
  const entry = join(root, 'lib', 'src', stage, 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} missing: run tsc first (npm run build)`);
  const { code, assets } = await ncc(entry, { minify: false, sourceMap: false, quiet: true, license: 'licenses.txt' });
  const out = join(root, 'dist', stage);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'index.js'), code, { mode: stage === 'cli' ? 0o755 : 0o644 });
  for (const [name, asset] of Object.entries(assets)) {
    mkdirSync(dirname(join(out, name)), { recursive: true });
    writeFileSync(join(out, name), asset.source);
  }
  console.log(`bundled dist/${stage}/index.js (${(code.length / 1024).toFixed(0)} KiB, ${Object.keys(assets).length} assets)`);
}
