import { runStage, setFailed } from '../action/stage.js';
import { main, post } from './pipeline.js';

runStage({ main, post }).catch(setFailed);
