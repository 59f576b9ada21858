// The container's arguments: the `args` input, or a default chosen from the image's entrypoint
// (src/serve/server-args.ts); the choice is logged and goes into the report and summary.
import { logInfo } from '../action/log.js';
import { defaultServerArgs, imageEntrypoint } from '../serve/server-args.js';
import type { SmokeTestInputs } from './inputs.js';
import type { SmokeReport } from './report.js';

export async function serverArgs(inputs: SmokeTestInputs, image: string, report: SmokeReport): Promise<string[]> {
  const entrypoint = await imageEntrypoint(image);
  // Kept for the failure diagnosis (an argparse error names both) and the report.
  report.entrypoint = entrypoint ?? [];
  if (inputs.args) {
    report.serverArgs = 'from the `args` input';
    report.serverArgsReason = 'from the args input';
    report.args = inputs.args;
    return inputs.args;
  }
  const choice = defaultServerArgs(entrypoint, { model: inputs.model, port: inputs.port, servedModelName: inputs.servedModelName });
  report.serverArgs = `\`${choice.args.join(' ')}\` (${choice.reason})`;
  report.serverArgsReason = choice.reason;
  report.args = choice.args;
  logInfo(`Server arguments: ${report.serverArgs}`);
  return choice.args;
}
