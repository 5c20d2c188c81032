// The models every genai test runs on: our own generated fixtures always, plus the shared third-party GPT-2 when
// ../shared is present. Prompts stay within the smallest vocabulary (the shared model has only 1000 entries).
import { binding } from '../../src/native.js';
import { fixtureModel, sharedModel } from '../helpers/fixtures.js';

export interface TestModel {
  name: string;
  dir: string;
}

export const SHARED_GPT2 = 'hf-internal-testing/tiny-random-gpt2-fp32';

export function testModels(): TestModel[] {
  const models: TestModel[] = [
    { name: 'tiny-random', dir: fixtureModel('tiny-random') },
    { name: 'tiny-deterministic', dir: fixtureModel('tiny-deterministic') },
  ];
  const shared = sharedModel(SHARED_GPT2);
  if (shared) models.push({ name: SHARED_GPT2, dir: shared });
  return models;
}

/** GPT-2 ids of "The the, and": valid in every test model's vocabulary. */
export const PROMPT_IDS = [464, 262, 11, 290];
export const PROMPT_TEXT = 'The the, and';

/** The ORT-GenAI release this test process runs on: the npm 0.15.2 build, or ORTGENAI_PYTHON's wheel (0.18.0). */
export const GENAI_VERSION = binding().runtimeInfo().genaiVersion;
/**
 * The Engine API the loaded library has: 'step' (0.15's OgaEngineStep) or 'events' (0.16+'s OgaEngineRun). The
 * Engine runs on both; tests of what differs between them branch on this.
 */
export const ENGINE_API = binding().runtimeInfo().engineApi;
