import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSession, DisposedError, GuidanceError, Model, ToolRoundsError, ValidationError, type ChatFunction, type ChatMessage } from '../../src/index.js';
import { ChatFunctions } from '../../src/genai/chat-functions.js';
import { dropOldest } from '../../src/genai/context-policy.js';
import { fixtureModel } from '../helpers/fixtures.js';

// tiny-random has random weights: it calls a function only when guidance makes it (toolChoice 'required' or named),
// and answers in text otherwise. What the session does around the calls (handlers, history, rounds) is the same
// whatever made the model ask.

const citySchema = { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } }, required: ['city'], additionalProperties: false };
const zoneSchema = { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['zone'], additionalProperties: false };

/** get_weather and get_time, recording the arguments each call got. */
function recordingFunctions() {
  const seen: { name: string; args: unknown }[] = [];
  const functions: Record<string, ChatFunction> = {
    get_weather: {
      description: 'The weather in a city',
      parameters: citySchema,
      handler: (args: { city: string }) => {
        seen.push({ name: 'get_weather', args });
        return { city: args.city, sky: 'sunny', celsius: 21 };
      },
    },
    get_time: {
      parameters: zoneSchema,
      handler: async (args: { zone: string }) => {
        seen.push({ name: 'get_time', args });
        return `12:00 ${args.zone}`;
      },
    },
  };
  return { seen, functions };
}

describe('ChatSession tools on tiny-random', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(fixtureModel('tiny-random'), { threads: 1 });
  });
  afterAll(() => model.dispose());

  /** What a fresh generation (its own Generator) answers after `messages`, the session's tools in the template. */
  async function freshAnswer(messages: ChatMessage[], functions: Record<string, ChatFunction>, maxTokens: number): Promise<string> {
    const tools = JSON.stringify(Object.entries(functions).map(([name, f]) => ({ type: 'function', function: { name, description: f.description, parameters: f.parameters } })));
    return (await model.generate(model.tokenizer.applyChatTemplate(messages, { tools }), { maxTokens })).text;
  }

  it("calls the handler with schema-valid arguments, puts its result in the history and answers after it ('required')", async () => {
    const { seen, functions } = recordingFunctions();
    using chat = await ChatSession.create(model, { functions, maxTokens: 48 });
    const answer = await chat.generate('What is the weather in Paris?', { toolChoice: 'required' });
    // One call, forced: of either function, with arguments its schema allows.
    expect(seen).toHaveLength(1);
    for (const { name, args } of seen) {
      if (name === 'get_weather') expect(['Paris', 'Rome']).toContain((args as { city: string }).city);
      else expect(['UTC', 'CET']).toContain((args as { zone: string }).zone);
    }
    const turn = chat.lastTurn!;
    expect(turn).toMatchObject({ rounds: 2, guidedRounds: 1, finishReason: answer.finishReason });
    expect(turn.toolCalls.map((c) => ({ name: c.name, args: c.arguments }))).toEqual(seen);
    const messages = chat.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', ...seen.map(() => 'tool'), 'assistant']);
    const [, call, ...rest] = messages;
    expect(call.tool_calls).toEqual(turn.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } })));
    expect(rest.slice(0, -1)).toEqual(turn.toolCalls.map((c) => ({ role: 'tool', content: JSON.stringify(c.result), tool_call_id: c.id, name: c.name })));
    expect(messages.at(-1)).toEqual({ role: 'assistant', content: answer.text });
    // The answer after the calls is what the model says after the whole conversation, results included.
    expect(answer.text).toBe(await freshAnswer(messages.slice(0, -1), functions, 48));
    expect(turn.generatedTokens).toBeGreaterThan(answer.completionTokens);

    // The next turn (no forced call) goes on from the session's Generator, reusing its KV cache.
    const next = await chat.generate('And tomorrow?', { maxTokens: 8 });
    expect(chat.lastTurn).toMatchObject({ rounds: 1, guidedRounds: 0, toolCalls: [] });
    expect(chat.lastTurn!.reusedTokens).toBeGreaterThan(0);
    expect(next.text).toBe(await freshAnswer(chat.messages.slice(0, -1), functions, 8));
  });

  it('calls exactly the named function once, among several; the session option sets it for every turn', async () => {
    const { seen, functions } = recordingFunctions();
    using chat = await ChatSession.create(model, { functions, toolChoice: { name: 'get_time' }, maxTokens: 48 });
    await chat.generate('What time is it?');
    await chat.generate('And now?');
    expect(seen.map((s) => s.name)).toEqual(['get_time', 'get_time']);
    expect(chat.lastTurn!.toolCalls).toEqual([{ id: expect.stringMatching(/^call_/), name: 'get_time', arguments: seen[1].args, result: `12:00 ${(seen[1].args as { zone: string }).zone}` }]);
  });

  it('gives a throwing handler its error message as the result, and the conversation goes on', async () => {
    using chat = await ChatSession.create(model, {
      maxTokens: 48,
      functions: {
        get_weather: {
          parameters: citySchema,
          handler: () => {
            throw new Error('the weather service is down');
          },
        },
      },
    });
    const answer = await chat.generate('Weather?', { toolChoice: 'required' });
    const turn = chat.lastTurn!;
    expect(turn.toolCalls).toEqual([{ id: expect.any(String), name: 'get_weather', arguments: { city: expect.any(String) }, error: 'the weather service is down' }]);
    const tool = chat.messages.find((m) => m.role === 'tool')!;
    expect(JSON.parse(tool.content)).toEqual({ error: 'the weather service is down' });
    expect(chat.messages.at(-1)).toEqual({ role: 'assistant', content: answer.text });
    expect(turn.rounds).toBe(2);
  });

  it('ends a turn that asks for more rounds than maxToolRounds with a ToolRoundsError, the calls not made', async () => {
    const { seen, functions } = recordingFunctions();
    using chat = await ChatSession.create(model, { functions, maxToolRounds: 0, maxTokens: 48 });
    const err = await chat.generate('Weather?', { toolChoice: { name: 'get_weather' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolRoundsError);
    expect(err).toMatchObject({ code: 'TOOL_ROUNDS', maxToolRounds: 0 });
    expect(seen).toEqual([]);
    expect(chat.lastTurn).toMatchObject({ rounds: 1, guidedRounds: 1, toolCalls: [] });
    // The question stays; the session answers the next message.
    expect(chat.messages).toEqual([{ role: 'user', content: 'Weather?' }]);
    expect((await chat.generate('Hello', { maxTokens: 4 })).completionTokens).toBeGreaterThan(0);
  });

  it("makes no call with toolChoice 'none' (a turn overriding the session's 'required')", async () => {
    const { seen, functions } = recordingFunctions();
    using chat = await ChatSession.create(model, { functions, toolChoice: 'required', maxTokens: 48 });
    const answer = await chat.generate('Weather?', { toolChoice: 'none' });
    expect(seen).toEqual([]);
    expect(chat.lastTurn).toMatchObject({ rounds: 1, guidedRounds: 0, toolCalls: [] });
    expect(answer.text).toBe(await freshAnswer([{ role: 'user', content: 'Weather?' }], functions, 48));
  });

  it('streams the answer after the calls, never the calls', async () => {
    const { seen, functions } = recordingFunctions();
    using chat = await ChatSession.create(model, { functions, maxTokens: 48 });
    const stream = chat.stream('Weather in Rome?', { toolChoice: { name: 'get_weather' } });
    const chunks: string[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const result = await stream.result;
    expect(seen).toHaveLength(1);
    expect(chunks.join('')).toBe(result.text);
    expect(chunks.join('')).not.toContain('get_weather');
    expect(chat.messages.at(-1)).toEqual({ role: 'assistant', content: result.text });
  });

  it('aborts during a handler: the handler sees the signal, the turn ends with finishReason abort, the round is not kept', async () => {
    const controller = new AbortController();
    const stuck = new AbortController();
    let sawAbort = false;
    using chat = await ChatSession.create(model, {
      maxTokens: 48,
      functions: {
        get_weather: {
          parameters: citySchema,
          handler: (_args, { signal }) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                sawAbort = true;
                resolve('too late');
              });
              controller.abort();
            }),
        },
        // Ignores the signal: the turn does not wait for it.
        get_time: {
          parameters: zoneSchema,
          handler: () => {
            stuck.abort();
            return new Promise(() => {});
          },
        },
      },
    });
    const result = await chat.generate('Weather?', { toolChoice: { name: 'get_weather' }, signal: controller.signal });
    expect(sawAbort).toBe(true);
    expect(result).toMatchObject({ finishReason: 'abort', text: '' });
    expect(chat.lastTurn).toMatchObject({ finishReason: 'abort', rounds: 1 });
    expect(chat.lastTurn!.toolCalls).toEqual([expect.objectContaining({ name: 'get_weather', error: expect.any(String) })]);
    expect(chat.messages).toEqual([{ role: 'user', content: 'Weather?' }]);

    const ended = await chat.generate('Time?', { toolChoice: { name: 'get_time' }, signal: stuck.signal });
    expect(ended.finishReason).toBe('abort');
    expect(chat.lastTurn!.toolCalls).toEqual([expect.objectContaining({ name: 'get_time', error: expect.any(String) })]);
    // The session is free for the next message.
    expect((await chat.generate('Hello', { maxTokens: 4 })).finishReason).toBe('length');
  });

  it('dispose() during a forced call stops its Generator', async () => {
    // The grammar wants more characters of argument than 400 tokens hold: undisturbed, the answer takes all 400.
    const long = { type: 'object', properties: { text: { type: 'string', minLength: 4000 } }, required: ['text'] };
    const chat = await ChatSession.create(model, { maxTokens: 400, functions: { f: { parameters: long, handler: () => 1 } } });
    const turn = chat.generate('go', { toolChoice: 'required' });
    // White-box: no public event says the guided Generator is running (its text is held back), so wait for it.
    const running = () => (chat as unknown as { guided?: unknown }).guided !== undefined;
    while (!running()) await new Promise((resolve) => setTimeout(resolve, 1));
    chat.dispose();
    const result = await turn;
    expect(chat.disposed).toBe(true);
    expect(result.completionTokens).toBeLessThan(400);
  });

  it('a handler that disposes the session ends the turn with DisposedError', async () => {
    const chat = await ChatSession.create(model, {
      maxTokens: 48,
      functions: { get_time: { parameters: zoneSchema, handler: () => chat.dispose() } },
    });
    await expect(chat.generate('Time?', { toolChoice: 'required' })).rejects.toBeInstanceOf(DisposedError);
    expect(chat.lastTurn).toMatchObject({ rounds: 1, guidedRounds: 1, toolCalls: [{ name: 'get_time', result: undefined }] });
  });

  it('refuses, as GuidanceError when the call is forced, parameters no grammar can be built from; the session goes on', async () => {
    const unknownFormat = { type: 'object', properties: { a: { type: 'string', format: 'no-such-format' } }, required: ['a'] };
    using chat = await ChatSession.create(model, { maxTokens: 8, functions: { f: { parameters: unknownFormat, handler: () => 1 } } });
    await expect(chat.generate('hi', { toolChoice: 'required' })).rejects.toBeInstanceOf(GuidanceError);
    expect(chat.messages).toEqual([]);
    expect((await chat.generate('hi')).completionTokens).toBe(8);
  });

  it('refuses bad function definitions and tool choices with a ValidationError', async () => {
    const handler = () => 1;
    const bad: [object, RegExp][] = [
      [{ functions: { 'no spaces': { handler } } }, /function names must be 1-64 letters/],
      [{ functions: { f: { description: 'no handler' } } }, /handler must be a function/],
      [{ functions: { f: { handler: 'nope' } } }, /handler must be a function/],
      [{ functions: { f: { handler, parameters: 'object' } } }, /parameters/],
      [{ functions: { f: { handler, returns: {} } } }, /returns/],
      [{ functions: { f: { handler, parameters: { type: 'no-such-type' } } } }, /functions\.f\.parameters: not a JSON schema arguments can be checked with \(Unsupported type: no-such-type\)/],
      [{ toolChoice: 'required' }, /no functions/],
      [{ functions: { f: { handler } }, toolChoice: { name: 'g' } }, /'g', which is not one of the session's functions \(f\)/],
      [{ functions: { f: { handler } }, toolChoice: 'always' }, /toolChoice/],
      [{ functions: { f: { handler } }, maxToolRounds: -1 }, /maxToolRounds/],
    ];
    for (const [options, message] of bad) {
      const err = await ChatSession.create(model, options as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toMatch(message);
    }
    using chat = await ChatSession.create(model, { functions: { f: { handler } } });
    await expect(chat.generate('hi', { toolChoice: { name: 'g' } })).rejects.toThrow(/'g', which is not one of/);
    expect(chat.messages).toEqual([]);
  });
});

describe('dropOldest with tool messages', () => {
  it('never leaves the history starting with a tool result (or the call it answers)', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '[{"name":"get_weather","arguments":{"city":"Paris"}}]', tool_calls: [] },
      { role: 'tool', content: '"sunny"', tool_call_id: 'call_1', name: 'get_weather' },
      { role: 'assistant', content: 'Sunny.' },
      { role: 'user', content: 'Thanks' },
    ];
    // Room for three messages would keep [tool, assistant, user]: both leading answers go too.
    expect(dropOldest(messages, { contextLength: 3, fits: (m) => m.length <= 3 })).toEqual([messages[4]]);
    expect(dropOldest(messages, { contextLength: 4, fits: (m) => m.length <= 4 })).toEqual([messages[4]]);
  });
});

describe('ChatFunctions.call', () => {
  const call = (name: string, args: string) => ({ id: `call_${name}`, type: 'function' as const, function: { name, arguments: args } });

  it("checks the arguments against the function's schema before its handler runs; the model is told what is wrong", async () => {
    const seen: unknown[] = [];
    const functions = new ChatFunctions({ get_weather: { parameters: citySchema, handler: (args) => (seen.push(args), 'sunny') } });
    const made = await functions.call(
      [call('get_weather', '{"city":"Oslo"}'), call('get_weather', 'Paris'), call('get_weather', '{"city":"Rome"}')],
      new AbortController().signal,
    );
    expect(seen).toEqual([{ city: 'Rome' }]);
    expect(made.calls.map((c) => c.error ?? c.result)).toEqual([expect.stringMatching(/^the arguments do not match the parameters schema: arguments\.city: /), 'the arguments are not valid JSON', 'sunny']);
    expect(made.messages.map((m) => JSON.parse(m.content))).toEqual([{ error: made.calls[0].error }, { error: 'the arguments are not valid JSON' }, 'sunny']);
    expect(made.aborted).toBe(false);
  });

  it('gives a result JSON cannot hold as an error', async () => {
    const functions = new ChatFunctions({ f: { handler: () => ({ big: 1n }) } });
    const made = await functions.call([call('f', '{}')], new AbortController().signal);
    expect(made.calls[0].error).toMatch(/BigInt/);
  });
});

