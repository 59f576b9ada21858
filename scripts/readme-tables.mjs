#!/usr/bin/env node
// Writes the README's input and output tables from the action.yml files, between markers:
//   <!-- action-tables: actions/<stage>/action.yml -->  …  <!-- /action-tables -->
// The action.yml is the one source: edit its descriptions, then run `npm run docs`.
// Usage: node scripts/readme-tables.mjs [--check] [--root DIR]
//   --check: write nothing; exit 1 naming every table that differs from its action.yml, and every
//   action.yml (the root one and actions/*/) that has no tables in the README.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const args = process.argv.slice(2);
const check = args.includes('--check');
const rootAt = args.indexOf('--root');
const root = resolve(rootAt >= 0 ? args[rootAt + 1] : join(dirname(fileURLToPath(import.meta.url)), '..'));
const readmePath = join(root, 'README.md');

const MARKERS = /(<!-- action-tables: (\S+) -->\n)([\s\S]*?)(<!-- \/action-tables -->)/g;

/** One table cell: a single line, pipes escaped, and `<` too (GitHub would read `<context>` as HTML and hide it). */
const cell = (text) => String(text ?? '').replace(/\s*\n\s*/g, ' ').replace(/[|<]/g, '\\$&').trim();
/** A code span that survives any backticks inside it. */
const code = (text) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

function tables(file) {
  const path = join(root, file);
  if (!existsSync(path)) throw new Error(`README.md has tables for ${file}, which does not exist`);
  const action = parse(readFileSync(path, 'utf8'));
  const inputs = Object.entries(action.inputs ?? {}).map(([name, spec]) => {
    const shown = spec.required === true || spec.required === 'true' ? '(required)' : spec.default === undefined || spec.default === '' ? '' : code(cell(spec.default));
    return `| ${code(name)} | ${shown} | ${cell(spec.description)} |`;
  });
  const outputs = Object.entries(action.outputs ?? {}).map(([name, spec]) => `| ${code(name)} | ${cell(spec.description)} |`);
  const parts = [];
  if (inputs.length > 0) parts.push(['| input | default | description |', '|---|---|---|', ...inputs].join('\n'));
  if (outputs.length > 0) parts.push(['| output | description |', '|---|---|', ...outputs].join('\n'));
  return `${parts.join('\n\n')}\n`;
}

const readme = readFileSync(readmePath, 'utf8');
const stale = [];
const covered = new Set();
const written = readme.replace(MARKERS, (_whole, open, file, body, close) => {
  covered.add(file);
  const fresh = tables(file);
  if (body !== fresh) stale.push(file);
  return `${open}${fresh}${close}`;
});
const stages = existsSync(join(root, 'actions')) ? readdirSync(join(root, 'actions')).filter((d) => existsSync(join(root, 'actions', d, 'action.yml'))) : [];
const expected = [...(existsSync(join(root, 'action.yml')) ? ['action.yml'] : []), ...stages.map((d) => `actions/${d}/action.yml`)];
const missing = expected.filter((file) => !covered.has(file));

if (check) {
  for (const file of stale) console.error(`README.md: the tables of ${file} differ from it (run: npm run docs)`);
  for (const file of missing) console.error(`README.md: no tables for ${file} (add <!-- action-tables: ${file} --> <!-- /action-tables --> to its section, then run: npm run docs)`);
  if (stale.length > 0 || missing.length > 0) process.exit(1);
  console.log(`readme-tables: the tables of ${covered.size} action.yml files match`);
} else {
  if (written !== readme) writeFileSync(readmePath, written);
  console.log(`readme-tables: ${stale.length} of ${covered.size} sections rewritten${stale.length > 0 ? ` (${stale.join(', ')})` : ''}`);
  for (const file of missing) console.error(`README.md: no tables for ${file} (add <!-- action-tables: ${file} --> <!-- /action-tables --> to its section)`);
  if (missing.length > 0) process.exit(1);
}
