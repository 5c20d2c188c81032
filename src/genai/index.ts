export { Adapters } from './adapters.js';
export type { ChatFunction, ChatFunctionContext, ChatToolCall, ToolChoice } from './chat-functions.js';
export { ChatSession, DEFAULT_MAX_TOOL_ROUNDS, type ChatSessionOptions, type ChatTurnOptions, type ChatTurnStats } from './chat-session.js';
export { Config } from './config.js';
export type { ContextPolicy, ContextPolicyFunction, ContextWindow, Summarizer } from './context-policy.js';
export { Engine } from './engine.js';
export type { FinishReason, GenerateResult, TextStream, TokenLogprob } from './generate.js';
export { DEFAULT_MAX_TOKENS, type GenerateOptions } from './generate-options.js';
export { Generator } from './generator.js';
export { GeneratorParams, type GuidanceType } from './generator-params.js';
export { onLog, setLogOption } from './logging.js';
export { Model, type ModelLoadOptions } from './model.js';
export { SEARCH_OPTION_NAMES, type SearchOptions } from './search-options.js';
export { parseToolCalls, ToolCallStream, type FunctionDefinition, type ParsedOutput, type ToolCall } from './tool-calls.js';
export { toolCallGuidance } from './tool-guidance.js';
export {
  Tokenizer,
  TokenizerStream,
  type ChatMessage,
  type ChatTemplateOptions,
  type TokenizerOptions,
  type TokenMatrix,
} from './tokenizer.js';
