import { describe, expect, it } from 'vitest';
import { parseToolCalls, ToolCallStream } from '../../src/genai/tool-calls.js';

// The tool-call shapes models write, read into OpenAI tool calls, whole and streamed.

const names = ['get_weather', 'get_time'];
const call = (name: string, args: object) => ({ id: expect.stringMatching(/^call_\w{24}$/), type: 'function', function: { name, arguments: JSON.stringify(args) } });

function streamed(chunks: string[]): { content: string; toolCalls: unknown[] } {
  const stream = new ToolCallStream(names);
  let content = '';
  for (const c of chunks) content += stream.push(c);
  const end = stream.end();
  return { content: content + end.content, toolCalls: end.toolCalls };
}

describe('parseToolCalls', () => {
  it('reads the Phi-4-mini format, with the text before it as content', () => {
    const text = 'Let me check.<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"zone": "CET"}}]<|/tool_call|>';
    expect(parseToolCalls(text, names)).toEqual({ content: 'Let me check.', toolCalls: [call('get_weather', { city: 'Paris' }), call('get_time', { zone: 'CET' })] });
    expect(parseToolCalls('<|tool_call|>{"name": "get_time", "arguments": {}}<|/tool_call|><|tool_call|>{"name": "get_weather", "arguments": {}}<|/tool_call|>', names).toolCalls).toHaveLength(2);
    // A call the model did not close (max_tokens) is still read when its JSON is complete.
    expect(parseToolCalls('<|tool_call|>[{"name": "get_time", "arguments": {}}]', names).toolCalls).toHaveLength(1);
  });

  it('reads plain JSON: one call, a list, `parameters` for `arguments`, string arguments, a ```json fence', () => {
    expect(parseToolCalls(' {"name": "get_time", "arguments": {"zone": "UTC"}} ', names)).toEqual({ content: null, toolCalls: [call('get_time', { zone: 'UTC' })] });
    expect(parseToolCalls('[{"name": "get_time", "parameters": {"zone": "UTC"}}]', names).toolCalls).toEqual([call('get_time', { zone: 'UTC' })]);
    expect(parseToolCalls('{"name": "get_time", "arguments": "{\\"zone\\":\\"UTC\\"}"}', names).toolCalls[0].function.arguments).toBe('{"zone":"UTC"}');
    expect(parseToolCalls('```json\n{"name": "get_time", "arguments": {}}\n```', names).toolCalls).toHaveLength(1);
  });

  it('leaves text that is no call of a given tool as content', () => {
    for (const text of ['Hello', '{"name": "rm_rf", "arguments": {}}', '{"answer": 42}', '[1, 2]', '<|tool_call|>not json<|/tool_call|>', 'Sure: {"name": "get_time", "arguments": {}}']) {
      expect(parseToolCalls(text, names)).toEqual({ content: text, toolCalls: [] });
    }
  });
});

describe('ToolCallStream', () => {
  it('passes ordinary text through at once, holding back only what may start a marker', () => {
    const stream = new ToolCallStream(names);
    expect(stream.push('Hello ')).toBe('Hello ');
    expect(stream.push('wor')).toBe('wor');
    expect(stream.push('ld <|tool')).toBe('ld ');
    expect(stream.push('bar')).toBe('<|toolbar');
    expect(stream.end()).toEqual({ content: '', toolCalls: [] });
  });

  it('holds a call back and yields it at the end, whatever the chunking', () => {
    const text = 'On it.<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Rome"}}]<|/tool_call|>';
    for (const size of [1, 3, 7, text.length]) {
      const chunks = Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
      expect(streamed(chunks)).toEqual({ content: 'On it.', toolCalls: [call('get_weather', { city: 'Rome' })] });
    }
    expect(streamed(['  {"name": "get_time",', ' "arguments": {}}'])).toEqual({ content: '', toolCalls: [call('get_time', {})] });
  });

  it('gives held JSON back as content when it is no call', () => {
    expect(streamed(['{"answer"', ': 42}'])).toEqual({ content: '{"answer": 42}', toolCalls: [] });
  });
});
