// An action's action.yml as the runner reads it: entry points, inputs with their defaults, and the
// few `${{ }}` expressions the suite's defaults use. Shared by the command line and the tests' runner.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface InputSpec {
  description?: string;
  default?: string;
  required?: boolean;
}

export interface ActionMetadata {
  name?: string;
  description?: string;
  inputs?: Record<string, InputSpec>;
  outputs?: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string; 'post-if'?: string };
}

export function readActionMetadata(file: string): ActionMetadata {
  return parseYaml(readFileSync(file, 'utf8')) as ActionMetadata;
}

/** The variable a node action reads an input from (@actions/core's getInput). */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export interface ExpressionContext {
  githubToken: string;
  runnerTemp: string;
  workspace: string;
}

/** Evaluates the `${{ … }}` in an input default; any other expression is an error, never ''. */
export function evaluateDefault(value: string, context: ExpressionContext): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    if (expr === 'github.token') return context.githubToken;
    if (expr === 'runner.temp') return context.runnerTemp;
    if (expr === 'github.workspace') return context.workspace;
    throw new Error(`cannot evaluate the default expression \${{ ${expr} }}`);
  });
}
