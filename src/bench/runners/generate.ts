// Our high-level API: model.stream(), whose token loop runs natively and hands text to JS in chunks, plus
// stop-string checks. TTFT is the first non-empty text chunk.
import { GenerationClock } from '../clock.js';
import type { ConcurrencyMode, Generation } from '../protocol.js';
import { allAtOnce, unsupported, type LoadRunner } from '../runner.js';
import { loadModel } from './stepwise.js';

export const load: LoadRunner = async (spec) => {
  if (spec.batch !== 1) throw new Error('generate/stream takes one prompt; run it with --batch 1');
  const model = await loadModel(spec);
  const promptLength = spec.promptIds.length;

  async function generateOne(): Promise<Generation> {
    const clock = new GenerationClock();
    const stream = model.stream(spec.promptIds, {
      maxTokens: spec.genTokens,
      doSample: false,
      searchOptions: { min_length: promptLength + spec.genTokens },
    });
    for await (const chunk of stream) if (chunk) clock.step();
    const result = await stream.result;
    return { timing: clock.finish(promptLength, 1, result.completionTokens), tokens: Array.from(result.tokens) };
  }

  function generate(mode: ConcurrencyMode, concurrency: number): Promise<Generation> {
    if (mode === 'sequential') return generateOne();
    if (mode === 'concurrent') return allAtOnce(concurrency, generateOne);
    return unsupported('generate', mode);
  }

  return { generate, dispose: () => model.dispose() };
};
