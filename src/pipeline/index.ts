import { runStage, setFailed } from '../action/stage.js';
import { main, OUTPUTS, post } from './pipeline.js';

runStage({ main, post, outputs: OUTPUTS }).catch(setFailed);
