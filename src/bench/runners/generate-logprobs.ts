// model.stream() with logprobs (top 5 alternatives, as evaluation scripts ask): the cost of the native
// token loop's log-softmax and top-k per step, against the plain generate runner.
import { streamRunner } from './generate.js';

export const load = streamRunner({ logprobs: 5 });
