// The one way stages print plain log lines. The runner reads every line of a step's stdout and
// stderr for workflow commands (`::save-state …::`, legacy `##[set-output …]` anywhere in a line),
// and a build log, a server's output or a message quoting either is untrusted text: `info`
// neutralises each line (src/runner/workflow-commands.ts) so it stays text.
//
// Why not a `::stop-commands::<token>` window: while one is open the runner also ignores
// `add-mask` (actions/runner, src/Runner.Worker/ActionCommandManager.cs), so a secret registered
// meanwhile would print in clear, and stdout and stderr share the one paused state. Neutralising
// each line keeps no state and leaves masking untouched. `core.warning`/`error`/`notice`/`debug`
// are safe as they are: @actions/core escapes their text into one `::name::data` line, which the
// runner parses as that command before it looks for `##[`.
import * as core from '@actions/core';
import { neutraliseCommands } from '../runner/workflow-commands.js';

/** Prints text (any number of lines) as plain log output that no line of can act as a command. */
export function logInfo(text: string): void {
  core.info(neutraliseCommands(text));
}
