// Our stepwise API: the generateNextToken loop a user writes in JS, one N-API round trip per step.
import { Config, Generator, GeneratorParams, Model } from '../../index.js';
import { GenerationClock } from '../clock.js';
import type { ConcurrencyMode, Generation, RunnerSpec } from '../protocol.js';
import { allAtOnce, fixedLengthSearch, configOverlay, unsupported, type LoadRunner } from '../runner.js';

/** Loads through Config so the overlay is exactly the C++ loop's. */
export async function loadModel(spec: RunnerSpec): Promise<Model> {
  const config = await Config.load(spec.model);
  try {
    config.overlay(configOverlay(spec));
    return await Model.load(config);
  } finally {
    config.dispose();
  }
}

export const load: LoadRunner = async (spec) => {
  const model = await loadModel(spec);
  const promptLength = spec.promptIds.length;

  async function generateBatch(batch: number): Promise<Generation> {
    const clock = new GenerationClock();
    const params = new GeneratorParams(model);
    params.setSearchOptions(fixedLengthSearch(spec, batch));
    const generator = await Generator.create(model, params);
    const tokens: number[] = [];
    try {
      await generator.appendTokenSequences(Array.from({ length: batch }, () => spec.promptIds));
      while (!generator.isDone()) {
        await generator.generateNextToken();
        const next = generator.getNextTokens();
        clock.step();
        tokens.push(next[0]);
      }
    } finally {
      generator.dispose();
      params.dispose();
    }
    return { timing: clock.finish(promptLength, batch), tokens };
  }

  function generate(mode: ConcurrencyMode, concurrency: number): Promise<Generation> {
    switch (mode) {
      case 'sequential':
        return generateBatch(spec.batch);
      case 'batched':
        return generateBatch(spec.batch * concurrency);
      case 'concurrent':
        return allAtOnce(concurrency, () => generateBatch(spec.batch));
      default:
        return unsupported('stepwise', mode);
    }
  }

  return { generate, dispose: () => model.dispose() };
};
