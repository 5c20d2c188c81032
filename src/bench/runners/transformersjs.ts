// The peer a Node user would otherwise pick: transformers.js on onnxruntime-node, offline, on the
// ORT-GenAI graph laid out (symlinked) the way it expects.
import path from 'node:path';
import { GenerationClock } from '../clock.js';
import type { ConcurrencyMode, RunnerSpec } from '../protocol.js';
import { unsupported, type LoadRunner } from '../runner.js';
import { TRANSFORMERSJS_MODEL_ID } from '../transformersjs-layout.js';

export const load: LoadRunner = async (spec: RunnerSpec) => {
  if (!spec.transformersjsDir) throw new Error('no transformers.js layout was prepared for this model');
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = path.dirname(spec.transformersjsDir);
  const model = await tjs.AutoModelForCausalLM.from_pretrained(TRANSFORMERSJS_MODEL_ID, {
    dtype: 'fp32',
    device: 'cpu',
    local_files_only: true,
    session_options: { intraOpNumThreads: spec.threads, interOpNumThreads: 1, executionMode: 'sequential' },
  });
  const promptLength = spec.promptIds.length;

  async function generateBatch(batch: number) {
    const ids = Array.from({ length: batch }, () => spec.promptIds).flat();
    const clock = new GenerationClock();
    const tokens: number[] = [];
    let calls = 0;
    // generate() calls put() with the prompt first, then once per step with that step's tokens.
    const streamer = {
      put(value: bigint[][]) {
        if (calls++ === 0) return;
        clock.step();
        tokens.push(Number(value[0][0]));
      },
      end() {},
    };
    const input_ids = new tjs.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [batch, promptLength]);
    const attention_mask = new tjs.Tensor('int64', new BigInt64Array(batch * promptLength).fill(1n), [batch, promptLength]);
    await model.generate({
      input_ids,
      attention_mask,
      max_new_tokens: spec.genTokens,
      // Bans EOS until max_new_tokens, like min_length = max_length in the other runners.
      min_new_tokens: spec.genTokens,
      do_sample: false,
      streamer,
    } as never);
    return { timing: clock.finish(promptLength, batch), tokens };
  }

  // Single streams only: the JS peers are compared with one stream (bench/run.ts lists no concurrency modes for them).
  function generate(mode: ConcurrencyMode) {
    if (mode === 'sequential') return generateBatch(spec.batch);
    return unsupported('transformersjs', mode);
  }

  return {
    generate,
    dispose: async () => {
      await model.dispose();
    },
  };
};
