// Node's side of test/python/test_tracking.py, against the built package and MLFLOW_TRACKING_URI:
//   write <experiment>            log a run (params, metrics with steps, tags, artifacts, a nested run) and
//                                 register a version with an alias; prints {run_id, child_id}
//   read <run_id> <download dir>  print what Node reads of a run Python wrote
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MlflowClient, endRun, logArtifact, logDict, logMetric, logParams, logText, registerModel, setExperiment, setTags, startRun } from 'ortgenai-node/mlflow';

const [command, ...args] = process.argv.slice(2);
const out = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

if (command === 'write') {
  const [experiment, scratch] = args;
  await setExperiment(experiment);
  const run = await startRun({ runName: 'from-node', tags: { origin: 'node' } });
  await logParams({ model: 'tiny', max_tokens: 16 });
  for (let step = 0; step < 5; step++) await logMetric('decode_tps', 100 + step, { step, timestamp: 1_700_000_000_000 + step });
  await logMetric('ratio', Number.NaN);
  await setTags({ 'bench.kind': 'smoke' });
  const file = path.join(scratch, 'weights.bin');
  await writeFile(file, Buffer.from([1, 2, 3, 4]));
  await logArtifact(file, 'model');
  await logText('name: tiny\n', 'model/MLmodel');
  await logDict({ decode_tps: 104, runs: [1, 2] }, 'report.json');
  const child = await startRun({ runName: 'child', nested: true });
  await logMetric('inner', 1);
  await endRun();
  await endRun();
  const version = await registerModel(`runs:/${run.info.runId}/model`, 'node-model');
  await new MlflowClient().setRegisteredModelAlias('node-model', 'champion', version.version);
  out({ run_id: run.info.runId, child_id: child.info.runId, version: version.version });
} else if (command === 'read') {
  const [runId, dst] = args;
  const client = new MlflowClient();
  const run = await client.getRun(runId);
  const history = await client.getMetricHistory(runId, 'loss');
  const local = await client.downloadArtifacts(runId, 'notes', dst);
  out({
    params: run.data.params,
    tags: Object.fromEntries(Object.entries(run.data.tags).filter(([k]) => !k.startsWith('mlflow.'))),
    status: run.info.status,
    history: history.map((m) => [m.step, m.value, m.timestamp]),
    artifacts: (await client.listArtifacts(runId)).map((f) => [f.path, f.isDir]),
    local,
    alias: (await client.getModelVersionByAlias('py-model', 'staging')).version,
  });
} else {
  throw new Error(`unknown command ${command}`);
}
