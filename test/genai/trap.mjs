// Runs one call that crashes some ORT-GenAI versions, in a process of its own, over the raw binding (the guards
// are native). Prints { ok, code, message, shape } as JSON; a guard that fails kills this process, not the tests.
import { createRequire } from 'node:module';

const [packageRoot, ort, genai, modelDir, trap] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const addon = require('node-gyp-build')(packageRoot);
addon.loadRuntime(ort, genai);

const PROMPT = [464, 262, 11, 290];
const model = await addon.Model.load(modelDir);
const params = addon.GeneratorParams.create(model);
params.setSearchNumber('max_length', PROMPT.length + 4);
if (trap === 'beam-logits') {
  params.setSearchNumber('num_beams', 3);
  params.setSearchNumber('num_return_sequences', 2);
}
const gen = await addon.Generator.create(model, params);

const traps = {
  // SIGABRT in 0.15.2: heap corruption copying beam-search logits.
  'beam-logits': async () => {
    await gen.appendTokens(PROMPT);
    return gen.getLogits();
  },
  // SIGSEGV in 0.15.2: a null output dereferenced for an unknown name.
  'unknown-output': async () => {
    await gen.appendTokens(PROMPT);
    return gen.getOutput('no_such_output');
  },
  // SIGSEGV in 0.15.2: outputs do not exist before the first run.
  'output-before-run': async () => gen.getOutput('logits'),
  // SIGABRT in 0.15.2 and 0.18.0: IsDone throws "Session in Terminated state" through the C API.
  'done-when-terminated': async () => {
    await gen.appendTokens(PROMPT);
    gen.setRuntimeOption('terminate_session', '1');
    try {
      return gen.isDone();
    } finally {
      gen.setRuntimeOption('terminate_session', '0');
      await gen.generateNextToken(); // going on works once the flag is cleared
    }
  },
};

try {
  const tensor = await traps[trap]();
  console.log(JSON.stringify({ ok: true, shape: tensor?.shape }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err.code, message: err.message }));
}
