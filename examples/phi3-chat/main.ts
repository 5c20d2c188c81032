// Flow 2 of the Python E2E guide (`mlflow.transformers.log_model(..., task="llm/v1/chat")`): log an ORT-GenAI
// model with the llm/v1/chat task into a local MLflow file store, load it by its runs:/ URI, and chat.
//
//   npx ortgenai make-model --preset tiny-random --out /tmp/phi3-onnx
//   MLFLOW_TRACKING_URI=/tmp/mlruns npx tsx examples/phi3-chat/main.ts --model /tmp/phi3-onnx
import { parseArgs } from 'node:util';
import { ortgenai, pyfunc, type ChatCompletion } from 'ortgenai-node/mlflow';

const { values } = parseArgs({ options: { model: { type: 'string' }, question: { type: 'string', default: 'What is ONNX Runtime GenAI?' } } });
if (!values.model) throw new Error('usage: main.ts --model <ORT-GenAI model folder>');

const info = await ortgenai.logModel('phi3-chat', {
  model: values.model,
  task: 'llm/v1/chat',
  modelConfig: { max_tokens: 32, temperature: 0 },
});
console.log(`logged ${info.modelUri}`);

const loaded = await pyfunc.loadModel(info.modelUri);
try {
  // One completion per request, in a list (as MLflow's llm/v1/chat models answer).
  const [response] = (await loaded.predict({
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: values.question },
    ],
  })) as ChatCompletion[];
  console.log(`answer: ${JSON.stringify(response.choices[0].message.content)}`);
  console.log(`usage: ${JSON.stringify(response.usage)}`);
} finally {
  await loaded.dispose();
}
