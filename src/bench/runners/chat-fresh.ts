// A conversation's second turn with the whole conversation prefilled again (see chat.ts).
import { chatRunner } from './chat.js';

export const load = chatRunner('fresh');
