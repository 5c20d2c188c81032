// Runs in a worker_thread: loads the addon and the runtime in this thread's own environment and generates.
// Plain .mjs over the raw binding (the addon's context-awareness is what is under test, not TypeScript loading).
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const addon = require('node-gyp-build')(workerData.packageRoot);
addon.loadRuntime(workerData.ort, workerData.genai);

const model = await addon.Model.load(workerData.modelDir);
const tokenizer = await addon.Tokenizer.create(model);
// With workerData.engine, the generations are requests of one Engine instead of Generators; with
// workerData.stepwise, a generateNextToken loop instead of the native token loop.
const engine = workerData.engine ? await addon.Engine.create(model) : undefined;
const outputs = [];
for (let round = 0; round < workerData.rounds; round++) {
  const params = addon.GeneratorParams.create(model);
  params.setSearchNumber('max_length', workerData.prompt.length + workerData.newTokens);
  const gen = engine ? engine.createRequest(params) : await addon.Generator.create(model, params);
  const tokens = [];
  let text = '';
  if (workerData.stepwise) {
    // One async call per token, so that teardown finds executor jobs in flight or just queued.
    await gen.appendTokens(workerData.prompt);
    while (!gen.isDone()) {
      await gen.generateNextToken();
      tokens.push(...gen.getNextTokens());
    }
  } else {
    const running = gen.run(workerData.prompt, tokenizer, (ids, chunk) => {
      tokens.push(...ids);
      text += chunk;
    });
    engine?.flush(); // an Engine starts queued requests at flush()
    await running;
  }
  outputs.push({ tokens, text });
  gen.dispose();
  params.dispose();
}
engine?.dispose();
tokenizer.dispose();
model.dispose();
parentPort.postMessage(outputs);
