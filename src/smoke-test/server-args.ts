// The container's arguments: the `args` input, or a default chosen from the image's entrypoint
// (src/serve/server-args.ts); the choice is logged and goes into the report and summary.
import { logInfo } from '../action/log.js';
import { codeSpan, plainText } from '../tool/markdown.js';
import { defaultServerArgs, imageEntrypoint } from '../serve/server-args.js';
import type { SmokeTestInputs } from './inputs.js';
import type { SmokeReport } from './report.js';

export async function serverArgs(inputs: SmokeTestInputs, image: string, report: SmokeReport): Promise<string[]> {
  if (inputs.args) {
    report.serverArgs = 'from the `args` input';
    return inputs.args;
  }
  const choice = defaultServerArgs(await imageEntrypoint(image), { model: inputs.model, port: inputs.port, servedModelName: inputs.servedModelName });
  report.serverArgs = `${codeSpan(choice.args.join(' '))} (${plainText(choice.reason)})`;
  logInfo(`Server arguments: ${report.serverArgs}`);
  return choice.args;
}
