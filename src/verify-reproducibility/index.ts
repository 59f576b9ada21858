import { runStage, setFailed } from '../action/stage.js';
import { main } from './main.js';

runStage({ main }).catch(setFailed);
