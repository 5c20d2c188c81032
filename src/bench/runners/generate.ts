// Our high-level API: model.stream(), whose token loop runs natively and hands text to JS in chunks, plus
// stop-string checks. TTFT is the first non-empty text chunk. With concurrency it runs N streams on the
// model at once, or N requests through our Engine (ORT-GenAI's scheduler).
import { Engine, type GenerateOptions, type TextStream } from '../../index.js';
import { GenerationClock } from '../clock.js';
import type { ConcurrencyMode, Generation, RunnerSpec } from '../protocol.js';
import { allAtOnce, unsupported, type LoadRunner } from '../runner.js';
import { loadModel } from './stepwise.js';

/** The runner with `extra` generate options on every stream (generate-logprobs adds `logprobs`). */
export function streamRunner(extra: GenerateOptions = {}): LoadRunner {
  return (spec) => loadStreams(spec, extra);
}

export const load: LoadRunner = streamRunner();

async function loadStreams(spec: RunnerSpec, extra: GenerateOptions) {
  if (spec.batch !== 1) throw new Error('generate/stream takes one prompt; run it with --batch 1');
  const model = await loadModel(spec);
  const promptLength = spec.promptIds.length;

  const options: GenerateOptions = {
    maxTokens: spec.genTokens,
    doSample: false,
    searchOptions: { min_length: promptLength + spec.genTokens },
    ...extra,
  };
  let engine: Engine | undefined;

  async function generateOne(start: (ids: number[], o: GenerateOptions) => TextStream = (ids, o) => model.stream(ids, o)): Promise<Generation> {
    const clock = new GenerationClock();
    const stream = start(spec.promptIds, options);
    for await (const chunk of stream) if (chunk) clock.step();
    const result = await stream.result;
    return { timing: clock.finish(promptLength, 1, result.completionTokens), tokens: Array.from(result.tokens) };
  }

  function generate(mode: ConcurrencyMode, concurrency: number): Promise<Generation> {
    if (mode === 'sequential') return generateOne();
    if (mode === 'concurrent') return allAtOnce(concurrency, () => generateOne());
    if (mode === 'engine') return viaEngine(concurrency);
    return unsupported('generate', mode);
  }

  async function viaEngine(concurrency: number): Promise<Generation> {
    engine ??= await Engine.create(model);
    const e = engine;
    return allAtOnce(concurrency, () => generateOne((ids, o) => e.stream(ids, o)));
  }

  return {
    generate,
    dispose: () => {
      engine?.dispose();
      model.dispose();
    },
  };
}
