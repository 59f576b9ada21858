import { runStage, setFailed } from '../action/stage.js';
import { main, OUTPUTS } from './main.js';
import { post } from './post.js';

runStage({ main, post, outputs: OUTPUTS }).catch(setFailed);
