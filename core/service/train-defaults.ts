// Runs in: any process. The training defaults the `emonas train` and `emonas search` help texts show, from a
// module without imports, so showing them loads none of the training code.
export { SEARCH_TRAINING_DEFAULTS, TRAIN_DEFAULTS } from '../train/setup/defaults.ts';
