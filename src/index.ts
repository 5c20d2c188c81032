/** ortgenai-node: ONNX Runtime GenAI for Node.js. */
export * from './genai/index.js';
export { AbortError, DisposedError, GenAIError, OrtGenAIError, RuntimeLoadError, ValidationError } from './errors.js';
export { resolveRuntimeLibraries, type RuntimeLibraries, type RuntimeOptions } from './runtime.js';
export { runtimeLibraries } from './native.js';
