// Writes every kind of MLflow model folder ortgenai-node makes, into argv[2], for the Python interop suite
// (test/python), and Node's own predictions on the same inputs into <out>/node-predictions.json, so Python
// MLflow's answers can be compared with Node's. Runs under plain Node against the built package (dist/).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ortgenai, pyfunc } from 'ortgenai-node/mlflow';

const [out, modelDir] = process.argv.slice(2);
if (!out || !modelDir) throw new Error('usage: write-folders.mjs <out dir> <ORT-GenAI model dir>');
const here = path.dirname(fileURLToPath(import.meta.url));
await mkdir(out, { recursive: true });
const helper = path.join(out, 'helper.txt');
await writeFile(helper, 'a code path\n');

const chatRequest = { messages: [{ role: 'user', content: 'The the, and' }], max_tokens: 6 };
const folders = {
  chat: {
    save: () => ortgenai.saveModel(path.join(out, 'chat'), {
      model: modelDir, task: 'llm/v1/chat', modelConfig: { max_tokens: 5 }, metadata: { owner: 'interop' }, codePaths: [helper],
      inputExample: chatRequest,
    }),
    inputs: [chatRequest, { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }] }],
  },
  completions: {
    save: () => ortgenai.saveModel(path.join(out, 'completions'), { model: modelDir, task: 'llm/v1/completions', inputExample: { prompt: 'The the, and', max_tokens: 4 } }),
    inputs: [{ prompt: 'The the, and', max_tokens: 4 }, { prompt: 'Hello' }],
  },
  plain: {
    save: () => ortgenai.saveModel(path.join(out, 'plain'), { model: modelDir, modelConfig: { max_tokens: 6 }, inputExample: { prompt: 'The the, and' } }),
    inputs: [{ prompt: 'The the, and' }, [{ prompt: 'Hello' }, { prompt: 'The' }]],
  },
  pythonmodel: {
    save: () => pyfunc.saveModel(path.join(out, 'pythonmodel'), {
      pythonModel: path.join(here, 'prompt-model.mjs'), artifacts: { model_dir: modelDir }, modelConfig: { max_tokens: 7 },
      inputExample: { prompt: 'The the, and' }, codePaths: [helper], metadata: { owner: 'interop' },
    }),
    inputs: [{ prompt: 'The the, and' }, [{ prompt: 'Hello' }]],
  },
};

const predictions = {};
for (const [name, folder] of Object.entries(folders)) {
  await folder.save();
  const model = await pyfunc.loadModel(path.join(out, name));
  try {
    predictions[name] = [];
    for (const input of folder.inputs) predictions[name].push({ input, output: await model.predict(input) });
  } finally {
    await model.dispose();
  }
}
// Logged into runs of a local file store, as pyfunc.logModel / ortgenai.logModel do.
process.env.MLFLOW_TRACKING_URI = `file://${path.join(out, 'mlruns')}`;
const loggedChat = await ortgenai.logModel('chat', { model: modelDir, task: 'llm/v1/chat', modelConfig: { max_tokens: 5 } });
const loggedModel = await pyfunc.logModel('model', {
  pythonModel: path.join(here, 'prompt-model.mjs'), artifacts: { model_dir: modelDir }, modelConfig: { max_tokens: 7 },
  inputExample: { prompt: 'The the, and' },
});
predictions.logged = { chat: loggedChat.modelUri, pythonmodel: loggedModel.modelUri };
await writeFile(path.join(out, 'node-predictions.json'), `${JSON.stringify(predictions, null, 2)}\n`);
