import { runStage, setFailed } from '../action/stage.js';
import { main } from './main.js';
import { post } from './post.js';

runStage({ main, post }).catch(setFailed);
