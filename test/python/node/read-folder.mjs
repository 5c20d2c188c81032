// Reads an MLflow model that Python MLflow wrote, the way a Node user would, and prints what Node sees as
// JSON: MLmodel fields, input example, requirements, and (with --predict) the answers of the TypeScript
// Phi3Model bound to the folder, through pyfunc.predict and through a real ortgenai server.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MLModel, localPathFromUri, loadInputExample, pyfunc } from 'ortgenai-node/mlflow';
import { createServer } from 'ortgenai-node/server';
import { Phi3Model } from './phi3-model.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { predict: { type: 'string' } } });
const [uri] = positionals;
const dir = await localPathFromUri(uri);
const mlmodel = await MLModel.load(dir);
const report = {
  dir,
  flavors: Object.keys(mlmodel.flavors).sort(),
  signature: mlmodel.signature?.toDict() ?? null,
  metadata: mlmodel.metadata ?? null,
  runId: mlmodel.runId ?? null,
  modelId: mlmodel.modelId ?? null,
  inputExample: (await loadInputExample(dir, mlmodel)) ?? null,
  requirements: (await readFile(path.join(dir, 'requirements.txt'), 'utf8')).split('\n').filter(Boolean),
};
if (values.predict !== undefined) {
  const input = JSON.parse(values.predict);
  const model = await pyfunc.loadModel(uri, { pythonModel: new Phi3Model() });
  const server = createServer(model);
  try {
    report.predict = await model.predict(input);
    await server.listen(0);
    const response = await fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dataframe_records: [input] }) });
    report.served = { status: response.status, body: await response.json() };
  } finally {
    await server.close();
    await model.dispose();
  }
}
console.log(JSON.stringify(report));
