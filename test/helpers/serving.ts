// A fixture model saved as an MLflow LLM-task model, loaded and served on a free port, with the official
// `openai` client pointed at it: what the OpenAI-route tests start from.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { ortgenai, pyfunc } from '../../src/mlflow/index.js';
import { createServer, type ModelServer } from '../../src/server/index.js';

export interface Served {
  model: pyfunc.PyFuncModel;
  server: ModelServer;
  client: OpenAI;
  close(): Promise<void>;
}

export function openaiClient(server: ModelServer): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-checked', maxRetries: 0 });
}

/** Saves `source` (a model folder) under `root/name` with `task` and `modelConfig`, and serves it. */
export async function serveModel(
  root: string,
  name: string,
  source: string,
  task: 'llm/v1/chat' | 'llm/v1/completions',
  modelConfig: Record<string, unknown>,
): Promise<Served> {
  const dir = path.join(root, name);
  await ortgenai.saveModel(dir, { model: source, task, modelConfig });
  const model = await pyfunc.loadModel(dir);
  const server = createServer(model);
  await server.listen(0);
  return {
    model,
    server,
    client: openaiClient(server),
    close: async () => {
      await server.close();
      await model.dispose();
    },
  };
}

/** The same fixture as a chat model and as a completions model, both served, in a fresh temp folder. */
export async function serveChatAndCompletions(prefix: string, source: string, modelConfig: Record<string, unknown>) {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const chat = await serveModel(root, 'chat', source, 'llm/v1/chat', modelConfig);
  const completions = await serveModel(root, 'completions', source, 'llm/v1/completions', modelConfig);
  return {
    chat,
    completions,
    close: async () => {
      await chat.close();
      await completions.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
