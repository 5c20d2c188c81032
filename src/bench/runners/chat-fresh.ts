// The chat runner with reuseCache false: every turn prefills the whole conversation (see chat.ts).
import { chatRunner } from './chat.js';

export const load = chatRunner(false);
