// --help: each action's inputs as its action.yml declares them (name, required, default, description).
import type { ActionMetadata } from '../runner/action-metadata.js';

const WIDTH = 100;

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

export const USAGE = `Usage: vllm-rocm-action <stage|pipeline> [--<input> <value> | --<input>=<value>]... [--workspace DIR] [--debug]
       vllm-rocm-action [<stage|pipeline>] --help

Runs a stage of the suite (or the whole pipeline, the root action.yml) on this machine with the
same code and inputs as in a workflow. A repeated input is joined with newlines (a multi-line
input); every input takes a value (--verify true). The log and the job summary go to stderr; the
outputs, as name=value (name<<EOF … EOF when multi-line), to stdout. Exit status: 0 success,
1 the stage failed, 2 a usage error.

Options:
  --workspace DIR   the workspace inputs are relative to (default: the current directory)
  --debug           show debug lines (also RUNNER_DEBUG=1)
  --help, -h        this help, or one stage's inputs and outputs

Without the Actions cache and artifact services, caches and artifacts are kept under
$XDG_CACHE_HOME/vllm-rocm-action (default ~/.cache/vllm-rocm-action).`;

export function actionHelp(command: string, meta: ActionMetadata, withOutputs: boolean): string {
  const lines = [`${command}: ${meta.description ?? ''}`.trim(), '', 'Inputs:'];
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    // Here the job token is whatever GITHUB_TOKEN or GH_TOKEN holds.
    const defaultValue = (spec.default ?? '').replace(/\$\{\{\s*github\.token\s*\}\}/, '$GITHUB_TOKEN or $GH_TOKEN');
    const notes = [spec.required && defaultValue === '' ? 'required' : '', defaultValue !== '' ? `default: ${defaultValue}` : ''].filter(Boolean);
    lines.push(`  --${name}${notes.length ? `  (${notes.join('; ')})` : ''}`, ...wrap(spec.description ?? '', '      '));
  }
  if (withOutputs && meta.outputs) {
    lines.push('', 'Outputs:');
    for (const [name, spec] of Object.entries(meta.outputs)) lines.push(`  ${name}`, ...wrap(spec.description ?? '', '      '));
  }
  return lines.join('\n');
}
