// Where a stage's main reads its inputs and writes its outputs: the step's own (the default), or
// the pipeline's, which maps its input names onto the stage's and collects the outputs itself.
import * as core from '@actions/core';
import { actionInputs, type InputSource } from './inputs.js';

export interface StageIO {
  get: InputSource;
  setOutput(name: string, value: string): void;
}

export const actionIO: StageIO = { get: actionInputs, setOutput: (name, value) => core.setOutput(name, value) };
