// The runtime most Node users pick for local LLMs: node-llama-cpp (llama.cpp), on model.gguf — the same model as
// model.onnx in llama.cpp's phi3 architecture, the same int4 codes as Q4_0 (`ortgenai make-model --gguf`).
// Its own token loop, greedy, from the same prompt ids; N generations at once are N sequences of one context,
// which llama.cpp decodes together in one batch per step.
import { existsSync } from 'node:fs';
import { GenerationClock } from '../clock.js';
import type { ConcurrencyMode, Generation, RunnerSpec } from '../protocol.js';
import { allAtOnce, unsupported, type LoadRunner } from '../runner.js';

export const load: LoadRunner = async (spec: RunnerSpec) => {
  if (spec.batch !== 1) throw new Error('node-llama-cpp runs one prompt per sequence; run it with --batch 1');
  const file = spec.ggufFile;
  if (!file || !existsSync(file)) {
    throw new Error(`no GGUF model next to ${spec.model} (${file ?? 'model.gguf'}): write it with 'ortgenai make-model --preset <name> --gguf' (bench presets have one)`);
  }
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  // CPU only, the prebuilt binary only (never a download or a build), at most the bench's thread count.
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, maxThreads: spec.threads, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  // Sized like the ORT-GenAI runners' KV cache (max_length = prompt + new tokens); the prompt is one batch. Flash
  // attention off: ORT's CPU GroupQueryAttention is not flash attention either, and llama.cpp's CPU flash attention
  // (node-llama-cpp's "auto" turns it on) made decoding ~1.5× slower on small (bench/README.md).
  const contextSize = spec.promptIds.length + spec.genTokens;
  const contextFor = async (sequences: number) => {
    const context = await model.createContext({
      contextSize, sequences, threads: spec.threads, batchSize: spec.promptIds.length * sequences, flashAttention: false,
    });
    return { context, sequences: Array.from({ length: sequences }, () => context.getSequence()) };
  };
  type Pool = Awaited<ReturnType<typeof contextFor>>;
  const single = await contextFor(1);
  let many: Pool | undefined;

  async function generateOne(sequence: Pool['sequences'][number]): Promise<Generation> {
    await sequence.clearHistory();
    const clock = new GenerationClock();
    const tokens: number[] = [];
    // evaluate() yields greedy tokens until we stop it: an EOS is just another token, never the end of a run.
    for await (const token of sequence.evaluate(spec.promptIds as Parameters<typeof sequence.evaluate>[0], { temperature: 0 })) {
      clock.step();
      tokens.push(token);
      if (tokens.length === spec.genTokens) break;
    }
    return { timing: clock.finish(spec.promptIds.length, 1), tokens };
  }

  async function concurrent(n: number): Promise<Generation> {
    if (many?.sequences.length !== n) {
      await many?.context.dispose();
      many = await contextFor(n);
    }
    const pool = many;
    let next = 0;
    return allAtOnce(n, () => generateOne(pool.sequences[next++]));
  }

  function generate(mode: ConcurrencyMode, concurrency: number): Promise<Generation> {
    if (mode === 'sequential') return generateOne(single.sequences[0]);
    if (mode === 'concurrent') return concurrent(concurrency);
    return unsupported('node-llama-cpp', mode);
  }

  return {
    generate,
    note: 'llama.cpp on model.gguf: Q4_0 kernels (int8 activations), float16 KV cache, no flash attention; the ORT-GenAI runners use MatMulNBits and a float32 KV cache',
    dispose: async () => {
      await many?.context.dispose();
      await single.context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
};
