// The secrets this process has masked, so that text the runner never prints (artifacts, reports,
// files a stage writes) can be scrubbed the same way the runner masks the log. Every stage masks
// through registerSecret rather than core.setSecret, so nothing masked is missed.
import * as core from '@actions/core';
import { Masker } from '../runner/workflow-commands.js';

const registered = new Masker();

/** core.setSecret (the runner masks it in the log from now on), remembered for scrubSecrets. */
export function registerSecret(value: string): void {
  if (!value) return;
  core.setSecret(value);
  registered.add(value);
}

/** The text with every registered secret (and each telling line of a multi-line one) replaced by ***. */
export function scrubSecrets(text: string): string {
  return registered.mask(text);
}
