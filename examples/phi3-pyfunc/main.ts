// Flow 1 of the Python E2E guide: save a custom Phi-3 pyfunc with its ONNX folder as an artifact, an input
// example, the inferred signature and pip requirements; load it back and predict.
//
//   npx ortgenai make-model --preset tiny-random --out /tmp/phi3-onnx     (or a real Phi-3 ONNX folder)
//   npx tsx examples/phi3-pyfunc/main.ts --model /tmp/phi3-onnx --out /tmp/phi3-pyfunc
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pyfunc } from 'ortgenai-node/mlflow';

const { values } = parseArgs({ options: { model: { type: 'string' }, out: { type: 'string' }, prompt: { type: 'string', default: 'What is MLflow?' } } });
if (!values.model || !values.out) throw new Error('usage: main.ts --model <ORT-GenAI model folder> --out <new MLflow model folder>');

const info = await pyfunc.saveModel(values.out, {
  pythonModel: path.join(path.dirname(fileURLToPath(import.meta.url)), 'phi3-model.ts'),
  artifacts: { model_dir: values.model },
  inputExample: { prompt: values.prompt },
  modelConfig: { max_tokens: 32 },
  requirements: ['onnxruntime-genai>=0.8.0'],
});
console.log(`saved ${info.modelUri}`);
console.log(`signature:\n${info.signature}`);

const loaded = await pyfunc.loadModel(info.modelUri);
try {
  const [answer] = (await loaded.predict({ prompt: values.prompt })) as string[];
  console.log(`answer: ${JSON.stringify(answer)}`);
} finally {
  await loaded.dispose();
}
