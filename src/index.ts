/** ortgenai-node: ONNX Runtime GenAI for Node.js. */
export * from './genai/index.js';
export { AbortError, ContextOverflowError, DisposedError, GenAIError, GuidanceError, OrtGenAIError, RuntimeLoadError, ToolRoundsError, ValidationError } from './errors.js';
export { resolveRuntimeLibraries, type RuntimeLibraries, type RuntimeOptions } from './runtime.js';
export { runtimeLibraries } from './native.js';
