// A conversation's first turn (see chat.ts).
import { chatRunner } from './chat.js';

export const load = chatRunner('first');
