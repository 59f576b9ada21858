import { runStage, setFailed } from '../action/stage.js';
import { main, OUTPUTS } from './main.js';

runStage({ main, outputs: OUTPUTS }).catch(setFailed);
