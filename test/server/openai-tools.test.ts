import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../src/genai/index.js';
import { fixtureModel } from '../helpers/fixtures.js';
import { serveModel, type Served } from '../helpers/serving.js';

// OpenAI function calling with the `openai` client. tiny-random is made to call tools by constrained
// decoding (tool_choice "required" / a named function; or a response_format that is a tool call, with
// tool_choice "auto"); tiny-deterministic, with a Phi-4-mini-style chat template, shows what reaches
// the template through prompt token counts.

const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
const weather: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } }, required: ['city'], additionalProperties: false },
  },
};
const time: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['zone'], additionalProperties: false } },
};
/** Phi-4-mini's chat template (tools in the system message), with newlines as in Phi-3's. */
const PHI4_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and message['tools'] is not none %}" +
  "{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + '<|/tool|>' + '<|end|>\\n' }}" +
  "{% else %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

let root: string;
let randomServed: Served;
let templateServed: Served;
let chat: OpenAI;
let reference: Model;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-tools-'));
  randomServed = await serveModel(root, 'random', fixtureModel('tiny-random'), 'llm/v1/chat', { max_tokens: 48, temperature: 0 });
  const phi4 = path.join(root, 'phi4-source');
  await cp(fixtureModel('tiny-deterministic'), phi4, { recursive: true });
  const config = JSON.parse(await readFile(path.join(phi4, 'tokenizer_config.json'), 'utf8'));
  await writeFile(path.join(phi4, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: PHI4_TEMPLATE }));
  templateServed = await serveModel(root, 'phi4', phi4, 'llm/v1/chat', { max_tokens: 2 });
  chat = randomServed.client;
  reference = await Model.load(fixtureModel('tiny-deterministic'));
});

afterAll(async () => {
  await randomServed?.close();
  await templateServed?.close();
  reference?.dispose();
  await rm(root, { recursive: true, force: true });
});

function expectWeatherCall(call: OpenAI.ChatCompletionMessageToolCall | undefined): void {
  expect(call).toMatchObject({ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather' } });
  expect(['Paris', 'Rome']).toContain(JSON.parse((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments).city);
}

describe('tool calls on /v1/chat/completions', () => {
  it('tool_choice "required" makes the model call a tool: message.tool_calls and finish_reason "tool_calls"', async () => {
    const answer = await chat.chat.completions.create({ model: 'm', messages, tools: [weather], tool_choice: 'required', parallel_tool_calls: false });
    const [choice] = answer.choices;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    expectWeatherCall(choice.message.tool_calls![0]);
  });

  it('a named function is the one called, among several tools', async () => {
    const answer = await chat.chat.completions.create({ model: 'm', messages, tools: [time, weather], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(answer.choices[0].finish_reason).toBe('tool_calls');
    expectWeatherCall(answer.choices[0].message.tool_calls![0]);
  });

  it('streams the call as tool_calls deltas that add up to the same call', async () => {
    const request = { model: 'm', messages, tools: [weather], tool_choice: 'required' as const, parallel_tool_calls: false };
    const whole = await chat.chat.completions.create(request);
    const stream = await chat.chat.completions.create({ ...request, stream: true });
    const calls: { id?: string; name?: string; arguments: string }[] = [];
    let content = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const [choice] = chunk.choices;
      content += choice.delta.content ?? '';
      for (const delta of choice.delta.tool_calls ?? []) {
        calls[delta.index] ??= { arguments: '' };
        calls[delta.index].id ??= delta.id;
        calls[delta.index].name ??= delta.function?.name;
        calls[delta.index].arguments += delta.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    expect(content).toBe('');
    expect(finish).toBe('tool_calls');
    const expected = (whole.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall).function;
    expect(calls).toEqual([{ id: expect.stringMatching(/^call_/), name: expected.name, arguments: expected.arguments }]);
  });

  it('"auto" reads a plain JSON call from the output (here made by a response_format schema); "none" leaves it text', async () => {
    const schema = { type: 'object', properties: { name: { const: 'get_weather' }, arguments: weather.function.parameters }, required: ['name', 'arguments'], additionalProperties: false };
    const response_format = { type: 'json_schema' as const, json_schema: { name: 'call', schema } };
    const auto = await chat.chat.completions.create({ model: 'm', messages, tools: [weather], tool_choice: 'auto', response_format });
    expect(auto.choices[0].finish_reason).toBe('tool_calls');
    expectWeatherCall(auto.choices[0].message.tool_calls![0]);
    const none = await chat.chat.completions.create({ model: 'm', messages, tools: [weather], tool_choice: 'none', response_format });
    expect(none.choices[0].finish_reason).toBe('stop');
    expect(none.choices[0].message.tool_calls).toBeUndefined();
    expect(JSON.parse(none.choices[0].message.content!)).toMatchObject({ name: 'get_weather' });
  });

  it('tool messages with tool_call_id round-trip: the model sees its call and the result', async () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const turn: OpenAI.ChatCompletionMessageParam[] = [...messages, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'call_1', content: '{"temp":20}' }];
    const answer = await templateServed.client.chat.completions.create({ model: 'm', messages: turn, tools: [weather] });
    const prompt =
      '<|user|>\nWeather in Paris?<|end|>\n<|assistant|>\n<|tool_call|>[{"name":"get_weather","arguments":{"city":"Paris"}}]<|/tool_call|><|end|>\n' +
      '<|tool|>\n{"temp":20}<|end|>\n<|assistant|>\n';
    expect(answer.usage!.prompt_tokens).toBe(reference.tokenizer.encode(prompt).length);
  });

  it('tools reach the chat template (Phi-4-mini reads them from the system message)', async () => {
    const withSystem: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'Be brief.' }, ...messages];
    const plain = await templateServed.client.chat.completions.create({ model: 'm', messages: withSystem });
    const tooled = await templateServed.client.chat.completions.create({ model: 'm', messages: withSystem, tools: [weather] });
    // The library writes the tools in its own form (`[{"name", "description", "parameters"}]`, Phi-4-mini's).
    const tools = JSON.stringify([weather]);
    const prompt = reference.tokenizer.applyChatTemplate([{ role: 'system', content: 'Be brief.', tools } as never, ...(messages as never[])], { template: PHI4_TEMPLATE, tools });
    expect(prompt).toMatch(/^<\|system\|>Be brief\.<\|tool\|>\[\{"name": "get_weather", "description": "The weather in a city"/);
    expect(tooled.usage!.prompt_tokens).toBe(reference.tokenizer.encode(prompt).length);
    expect(tooled.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens);
  });

  it('refuses a tool_choice naming no given tool, one without tools, and one with a response_format', async () => {
    const unknown = await chat.chat.completions
      .create({ model: 'm', messages, tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknown as Error).message).toMatch(/'nope' is not one of the tools/);
    const bare = await chat.chat.completions.create({ model: 'm', messages, tool_choice: 'required' }).catch((e: unknown) => e);
    expect(bare).toBeInstanceOf(OpenAI.BadRequestError);
    const both = await chat.chat.completions
      .create({ model: 'm', messages, tools: [weather], tool_choice: 'required', response_format: { type: 'json_object' } })
      .catch((e: unknown) => e);
    expect(both).toBeInstanceOf(OpenAI.BadRequestError);
    expect((both as Error).message).toMatch(/response_format: cannot be combined with tool_choice/);
  });
});

describe('tool calls on /invocations (llm/v1/chat)', () => {
  it('answers MLflow chat requests with tool_calls too', async () => {
    const res = await fetch(`${randomServed.server.url}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages, tools: [weather], tool_choice: 'required', parallel_tool_calls: false }),
    });
    expect(res.status).toBe(200);
    const [completion] = (await res.json()) as OpenAI.ChatCompletion[];
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expectWeatherCall(completion.choices[0].message.tool_calls![0]);
  });
});
