// Runs a stage from dist/ on this machine the way the runner would, and prints what a job would
// show: the log, the annotations, the outputs and the job summary. Used by scripts/run-example.sh.
//   node24 lib/test/support/run-action-cli.js <stage|.> --workspace DIR [--input name=value]...
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { newRunnerJob, readActionMetadata, runStep } from './action-runner.js';
import { startActionsServices } from './actions-services.js';

const [stage, ...rest] = process.argv.slice(2);
if (!stage) throw new Error('usage: run-action-cli <stage|.> --workspace DIR [--input name=value]...');
const inputs: Record<string, string> = {};
let workspace = '';
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--workspace') workspace = resolve(rest[++i] ?? '');
  else if (rest[i] === '--input') {
    const pair = rest[++i] ?? '';
    const eq = pair.indexOf('=');
    inputs[pair.slice(0, eq)] = pair.slice(eq + 1);
  } else throw new Error(`unknown argument ${rest[i]}`);
}

const services = await startActionsServices();
try {
  const job = newRunnerJob(mkdtempSync(join(tmpdir(), 'vllm-rocm-action-example-')), services.jobEnv());
  if (workspace) cpSync(workspace, job.workspace, { recursive: true });
  const main = await runStep(stage, job, { inputs });
  const phases = [['main', main]] as Array<[string, typeof main]>;
  // The runner runs a post script, when the action has one, after the job's steps.
  if (readActionMetadata(stage).runs.post) phases.push(['post', await runStep(stage, job, { inputs, phase: 'post', state: main.state })]);
  for (const [phase, result] of phases) {
    console.log(`\n===== ${phase} (exit ${result.exitCode}) =====\n${result.stdout}${result.stderr}`);
  }
  console.log('===== outputs =====');
  for (const [name, value] of Object.entries(main.outputs)) console.log(`${name}=${value.length > 200 ? `${value.slice(0, 200)}…` : value}`);
  console.log(`===== job summary =====\n${main.summary}`);
  process.exitCode = main.exitCode;
} finally {
  await services.stop();
}
