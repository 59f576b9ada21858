// The root action.yml's stage inputs as the stages' action.yml files define them, under the names
// src/pipeline/inputs.ts gives them. A name two stages share gets both descriptions, each after
// its stages' names. verify-reproducibility's build inputs are the build stages' own (its
// description only adds "builder docker:" or "builder nix:"), so they add nothing here.
//   node lib/test/support/root-action.js   prints the inputs block for action.yml
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { OWN_INPUTS, rootInputName, SET_BY_PIPELINE, STAGES } from '../../src/pipeline/inputs.js';
import { REPO_ROOT } from './action-runner.js';

export interface InputSpec {
  description: string;
  default?: string;
}

type Inputs = Record<string, InputSpec & { required?: boolean }>;

export function actionInputsOf(file: string): Inputs {
  return (parseYaml(readFileSync(file, 'utf8')) as { inputs?: Inputs }).inputs ?? {};
}

const BUILD_STAGES = ['build-docker', 'build-nix'] as const;

/** Root input name → the stage inputs behind it; and the drift found between stages themselves. */
export function expectedRootInputs(): { inputs: Map<string, InputSpec>; problems: string[] } {
  const contributors = new Map<string, Array<{ stage: string; spec: InputSpec }>>();
  const problems: string[] = [];
  const build = new Map<string, InputSpec>();
  for (const stage of BUILD_STAGES) {
    for (const [name, spec] of Object.entries(actionInputsOf(join(REPO_ROOT, 'actions', stage, 'action.yml')))) build.set(rootInputName(stage, name), spec);
  }
  for (const stage of STAGES) {
    for (const [name, spec] of Object.entries(actionInputsOf(join(REPO_ROOT, 'actions', stage, 'action.yml')))) {
      if ((SET_BY_PIPELINE as Record<string, readonly string[]>)[stage]?.includes(name)) continue;
      const root = rootInputName(stage, name);
      if (stage === 'verify-reproducibility' && build.has(root)) {
        const own = build.get(root)!;
        if (spec.description.replace(/^builder (docker|nix): /, '') !== own.description || spec.default !== own.default) {
          problems.push(`verify-reproducibility's ${name} differs from the build stage's ${root} (description or default)`);
        }
        continue;
      }
      if (!contributors.has(root)) contributors.set(root, []);
      contributors.get(root)!.push({ stage, spec: { description: spec.description, default: spec.default } });
    }
  }
  const inputs = new Map<string, InputSpec>();
  for (const [name, from] of contributors) {
    const defaults = new Set(from.map((f) => f.spec.default));
    if (defaults.size > 1) problems.push(`${name}: the stages' defaults differ (${from.map((f) => `${f.stage}: ${f.spec.default}`).join(', ')})`);
    const byText = new Map<string, string[]>();
    for (const f of from) byText.set(f.spec.description, [...(byText.get(f.spec.description) ?? []), f.stage]);
    const description = byText.size === 1 ? from[0]!.spec.description : [...byText].map(([text, stages]) => `${stages.join(', ')}: ${text}`).join(' ');
    inputs.set(name, from[0]!.spec.default === undefined ? { description } : { description, default: from[0]!.spec.default });
  }
  for (const own of OWN_INPUTS) if (inputs.has(own)) problems.push(`${own} is both the pipeline's own input and a stage input`);
  return { inputs, problems };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { inputs } = expectedRootInputs();
  const block: Record<string, { description: string; required: boolean; default?: string }> = {};
  for (const [name, spec] of inputs) block[name] = { description: spec.description, required: false, ...(spec.default === undefined ? {} : { default: spec.default }) };
  process.stdout.write(stringify(block, { defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN', lineWidth: 0 }));
}
