import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../src/genai/index.js';
import {
  ColSpec,
  DataType,
  MlflowException,
  MLModel,
  ModelSignature,
  ortgenai,
  pyfunc,
  Schema,
  type ChatCompletion,
  type ChatCompletionChunk,
} from '../../src/mlflow/index.js';
import { chatInputSchema, chatOutputSchema } from '../../src/mlflow/chat/signature.js';
import { fixtureModel } from '../helpers/fixtures.js';

// tiny-deterministic counts: after the chat prompt (which ends in "\n") it writes &'()*+,-./01...
const messages = [{ role: 'user', content: 'Hi there' }];

let root: string;
let modelDir: string;
let loaded: pyfunc.PyFuncModel;
let reference: Model;
let prompt: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-chat-'));
  modelDir = path.join(root, 'chat-model');
  await ortgenai.saveModel(modelDir, { model: fixtureModel('tiny-deterministic'), task: 'llm/v1/chat', modelConfig: { max_tokens: 12 } });
  loaded = await pyfunc.loadModel(modelDir);
  reference = await Model.load(fixtureModel('tiny-deterministic'));
  prompt = reference.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
});

afterAll(async () => {
  await loaded?.dispose();
  reference?.dispose();
  await rm(root, { recursive: true, force: true });
});

/** One request's completion: predict answers a list, one completion per request row, as MLflow 3.18 does. */
async function chat(request: Record<string, unknown>): Promise<ChatCompletion> {
  const answer = (await loaded.predict({ messages, ...request })) as ChatCompletion[];
  expect(answer).toHaveLength(1);
  return answer[0];
}

describe('llm/v1/chat model files', () => {
  it('carries exactly MLflow chat signature, the task metadata and all three flavors', async () => {
    const mlmodel = await MLModel.load(modelDir);
    expect(mlmodel.signature!.inputs!.toJson()).toBe(chatInputSchema().toJson());
    expect(mlmodel.signature!.outputs!.toJson()).toBe(chatOutputSchema().toJson());
    expect(mlmodel.signature!.params).toBeUndefined();
    expect(mlmodel.metadata).toEqual({ task: 'llm/v1/chat' });
    expect(Object.keys(mlmodel.flavors).sort()).toEqual(['nodejs_function', 'ortgenai', 'python_function']);
    expect(mlmodel.flavors.ortgenai).toEqual({ model_data: 'model', source_model_name: 'tiny-deterministic', task: 'llm/v1/chat' });
    expect(mlmodel.flavors.python_function).toMatchObject({ loader_module: 'ortgenai_mlflow_loader', code: 'code', data: 'model', config: { max_tokens: 12 } });
    expect(mlmodel.flavors.nodejs_function).toMatchObject({ loader_module: 'ortgenai_node.flavors.ortgenai', data: 'model', streamable: true });
    expect((await stat(path.join(modelDir, 'model', 'genai_config.json'))).isFile()).toBe(true);
    expect(await readFile(path.join(modelDir, 'requirements.txt'), 'utf8')).toBe('mlflow==3.18.0\nonnxruntime-genai>=0.8.0');
    // the MLflow repr of the chat input, as MLflow's docs print its first columns
    expect(mlmodel.signature!.inputs!.repr()).toContain("'messages': Array({content: string (optional), name: string (optional), refusal: string (optional), role: string (required)");
  });

  it('refuses a signature next to a task, as MLflow does', async () => {
    const signature = (await MLModel.load(modelDir)).signature!;
    const err = await ortgenai
      .saveModel(path.join(root, 'refused'), { model: fixtureModel('tiny-deterministic'), task: 'llm/v1/chat', signature })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowException);
    expect((err as Error).message).toMatch(/the signature would be set by MLflow/);
    await expect(stat(path.join(root, 'refused'))).rejects.toThrow();
  });
});

describe('llm/v1/chat predict', () => {
  it('answers one request with a list of one chat.completion whose usage matches the tokenizer', async () => {
    const res = await chat({});
    const direct = await reference.generate(prompt, { maxTokens: 12 });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(res.model).toBe('tiny-deterministic');
    expect(res.choices).toEqual([{ index: 0, message: { role: 'assistant', content: direct.text }, finish_reason: 'length' }]);
    expect(res.usage).toEqual({
      prompt_tokens: reference.tokenizer.encode(prompt).length,
      completion_tokens: direct.tokens.length,
      total_tokens: reference.tokenizer.encode(prompt).length + direct.tokens.length,
    });
  });

  it('answers a list of requests with a list', async () => {
    const res = (await loaded.predict([{ messages, max_tokens: 3 }, { messages, max_tokens: 2 }])) as ChatCompletion[];
    expect(res).toHaveLength(2);
    expect(res[1].usage.completion_tokens).toBe(2);
    // As in MLflow, rows become a data frame: a column missing in one row is NaN, which a long column refuses.
    const err = await loaded.predict([{ messages }, { messages, max_tokens: 2 }]).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Can not safely convert float64 to int64\. Hint: the type mismatch is likely caused by missing values/);
  });

  it('honours n > 1 and sums completion tokens over the choices', async () => {
    const res = await chat({ n: 3, max_tokens: 4 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(res.usage.completion_tokens).toBe(12);
    expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens + 12);
  });

  it('max_tokens ends with finish_reason "length"; request values beat the model config', async () => {
    const res = await chat({ max_tokens: 3 });
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.usage.completion_tokens).toBe(3);
  });

  it('cuts the answer before a stop sequence with finish_reason "stop"', async () => {
    const full = (await chat({})).choices[0].message.content;
    const stop = full.slice(5, 7);
    const res = await chat({ stop: [stop] });
    expect(res.choices[0].message.content).toBe(full.slice(0, 5));
    expect(res.choices[0].finish_reason).toBe('stop');
    // The chat signature types `stop` as Array(string): a bare string is refused here as by MLflow (the
    // OpenAI routes take it, as OpenAI does).
    expect((await loaded.predict({ messages, stop }).catch((e: Error) => e.message))).toMatch(/Expected data to be list or numpy array, got str$/);
  });

  it('JSON-schema response_format yields JSON that parses and validates', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string', enum: ['yes', 'no'] }, score: { type: 'integer', minimum: 0, maximum: 9 } },
      required: ['answer', 'score'],
      additionalProperties: false,
    };
    const res = await chat({ max_tokens: 40, response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema } } });
    expect(res.choices[0].finish_reason).toBe('stop');
    const value = JSON.parse(res.choices[0].message.content) as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual(['answer', 'score']);
    expect(['yes', 'no']).toContain(value.answer);
    expect(Number.isInteger(value.score) && (value.score as number) >= 0 && (value.score as number) <= 9).toBe(true);
  });

  it('loads with a modelConfig override that beats the saved config', async () => {
    const model = await pyfunc.loadModel(modelDir, { modelConfig: { max_tokens: 5 } });
    try {
      expect(model.modelConfig).toEqual({ max_tokens: 5 });
      expect(((await model.predict({ messages })) as ChatCompletion[])[0].usage.completion_tokens).toBe(5);
    } finally {
      await model.dispose();
    }
  });

  it('refuses requests that break the chat signature in MLflow\'s words, as SCHEMA_ENFORCEMENT_FAILED', async () => {
    const err = await loaded.predict({ messages: [{ content: 'no role' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowException);
    expect((err as MlflowException).toJSON()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', sqlstate: 'KAM01', error_class: 'SCHEMA_ENFORCEMENT_FAILED' });
    expect((err as Error).message).toMatch(/^Failed to enforce schema of data '\{'messages': \[\{'content': 'no role'\}\]\}' with schema '\['messages': Array\(/);
    expect((err as Error).message).toMatch(/Error: Missing required properties: \{'role'\}$/);
  });

  it('rejects malformed requests with INVALID_PARAMETER_VALUE naming the field', async () => {
    for (const [request, field] of [
      [{ messages: [] }, 'messages'],
      [{ messages, temperature: 5 }, 'temperature'],
      [{ messages, presence_penalty: 1 }, 'presence_penalty'],
    ] as const) {
      const err = await loaded.predict(request).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MlflowException);
      expect((err as MlflowException).errorCode).toBe('INVALID_PARAMETER_VALUE');
      expect((err as Error).message).toContain(field);
    }
  });
});

describe('llm/v1/chat predictStream', () => {
  it('streams chat.completion.chunk objects that add up to the predict answer', async () => {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of loaded.predictStream({ messages, n: 2, temperature: 0, stream_options: { include_usage: true } })) chunks.push(chunk as ChatCompletionChunk);
    const expected = (await chat({})).choices[0].message.content;
    for (const index of [0, 1]) {
      const mine = chunks.filter((c) => c.choices[0]?.index === index);
      expect(mine[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
      expect(mine.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(expected);
      expect(mine.at(-1)!.choices[0].finish_reason).toBe('length');
    }
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(24);
  });

  it('stops generating when the consumer stops reading', async () => {
    let seen = 0;
    for await (const _ of loaded.predictStream({ messages, max_tokens: 200 })) if (++seen === 3) break;
    expect(seen).toBe(3);
    // the model is free for the next request
    expect((await chat({ max_tokens: 2 })).usage.completion_tokens).toBe(2);
  });
});

describe('other tasks of the flavor', () => {
  it('llm/v1/completions returns text_completion objects', async () => {
    const dir = path.join(root, 'completions');
    await ortgenai.saveModel(dir, { model: fixtureModel('tiny-deterministic'), task: 'llm/v1/completions' });
    const model = await pyfunc.loadModel(dir);
    try {
      const [res] = (await model.predict({ prompt: 'abc', max_tokens: 4, n: 2, temperature: 0 })) as { object: string; choices: { text: string; finish_reason: string }[] }[];
      expect(res.object).toBe('text_completion');
      expect(res.choices).toHaveLength(2);
      expect(res.choices[0].text).toBe((await reference.generate('abc', { maxTokens: 4 })).text);
      const streamed: string[] = [];
      for await (const c of model.predictStream({ prompt: 'abc', max_tokens: 4 })) streamed.push((c as { choices: { text: string }[] }).choices[0].text);
      expect(streamed.join('')).toBe(res.choices[0].text);
    } finally {
      await model.dispose();
    }
  });

  it('without a task: {prompt} rows in, one string per row out; ortgenai.loadModel gives the genai Model', async () => {
    const dir = path.join(root, 'text');
    const info = await ortgenai.saveModel(dir, { model: fixtureModel('tiny-deterministic'), modelConfig: { max_tokens: 3 } });
    expect(info.signature!.inputs!.repr()).toBe("['prompt': string (required)]");
    const model = await pyfunc.loadModel(dir);
    try {
      const expected = (await reference.generate('abc', { maxTokens: 3 })).text;
      expect(await model.predict({ prompt: 'abc' })).toEqual([expected]);
      expect(await model.predict([{ prompt: 'abc' }, { prompt: 'abc' }])).toEqual([expected, expected]);
      const err = await model.predict({ text: 'abc' }).catch((e: unknown) => e);
      expect((err as MlflowException).errorCode).toBe('INVALID_PARAMETER_VALUE');
    } finally {
      await model.dispose();
    }
    const native = await ortgenai.loadModel(dir);
    try {
      expect(native).toBeInstanceOf(Model);
      expect((await native.generate('abc', { maxTokens: 3 })).text).toBe((await reference.generate('abc', { maxTokens: 3 })).text);
    } finally {
      native.dispose();
    }
  });

  it('without a task: a signature whose single text column is not called prompt still feeds the prompts', async () => {
    const dir = path.join(root, 'text-column');
    const signature = new ModelSignature({ inputs: new Schema([new ColSpec(DataType.string, 'text')]), outputs: new Schema([new ColSpec(DataType.string)]) });
    await ortgenai.saveModel(dir, { model: fixtureModel('tiny-deterministic'), signature, modelConfig: { max_tokens: 3 } });
    const model = await pyfunc.loadModel(dir);
    try {
      const expected = (await reference.generate('abc', { maxTokens: 3 })).text;
      expect(expected.length).toBeGreaterThan(0);
      expect(await model.predict([{ text: 'abc' }, { text: 'abc' }])).toEqual([expected, expected]);
      const streamed: unknown[] = [];
      for await (const chunk of model.predictStream({ text: 'abc' })) streamed.push(chunk);
      expect(streamed.join('')).toBe(expected);
    } finally {
      await model.dispose();
    }
  });

  it('without a task: two columns and no prompt column are refused, not answered with nothing', async () => {
    const dir = path.join(root, 'two-columns');
    const signature = new ModelSignature({
      inputs: new Schema([new ColSpec(DataType.string, 'a'), new ColSpec(DataType.string, 'b')]),
      outputs: new Schema([new ColSpec(DataType.string)]),
    });
    await ortgenai.saveModel(dir, { model: fixtureModel('tiny-deterministic'), signature, modelConfig: { max_tokens: 3 } });
    const model = await pyfunc.loadModel(dir);
    try {
      const err = await model.predict({ a: 'x', b: 'y' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MlflowException);
      expect((err as MlflowException).errorCode).toBe('INVALID_PARAMETER_VALUE');
      expect((err as MlflowException).message).toContain("a 'prompt' column (or a single text column)");
    } finally {
      await model.dispose();
    }
  });

  it('refuses a folder that is not an ORT-GenAI model and a config key it does not know', async () => {
    await expect(ortgenai.saveModel(path.join(root, 'bad1'), { model: root })).rejects.toThrow(/not an ORT-GenAI model folder/);
    await expect(
      ortgenai.saveModel(path.join(root, 'bad2'), { model: fixtureModel('tiny-deterministic'), modelConfig: { max_tokenz: 3 } }),
    ).rejects.toThrow(/max_tokenz/);
  });
});
