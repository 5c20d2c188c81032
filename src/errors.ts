/**
 * Every error this package throws on purpose is one of these classes, so callers can `instanceof` them.
 * `code` is stable and machine-readable; the message is for people.
 */
export class OrtGenAIError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An `OgaResult` error from the ORT-GenAI library, with the library's own message. */
export class GenAIError extends OrtGenAIError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'GENAI_ERROR', options);
  }
}

/** A native object was used after `dispose()` (or after its owner was disposed). */
export class DisposedError extends OrtGenAIError {
  constructor(what: string) {
    super(`${what} has been disposed and can no longer be used`, 'DISPOSED');
  }
}

/** Input that fails validation at a public boundary (search options, requests, CLI flags, schemas). */
export class ValidationError extends OrtGenAIError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, 'VALIDATION_ERROR', options);
    this.issues = issues;
  }
}

/** A guidance grammar (JSON schema, regex, Lark) that ORT-GenAI cannot build: the caller's input, not a failure. */
export class GuidanceError extends ValidationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, [], options);
  }
}

/** The native runtime (our addon, ONNX Runtime or ORT-GenAI) could not be found or loaded. */
export class RuntimeLoadError extends OrtGenAIError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'RUNTIME_LOAD_ERROR', options);
  }
}

/** An operation was cancelled through an AbortSignal. */
export class AbortError extends OrtGenAIError {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, 'ABORTED', options);
  }
}

/**
 * A chat turn that cannot fit in the model's context even with every earlier turn dropped (the system prompt, the
 * new message and the room for the answer alone exceed it). Raised before anything is generated.
 */
export class ContextOverflowError extends ValidationError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * A ChatSession turn in which the model still asked for tool calls after `maxToolRounds` rounds of them: the turn
 * ends without an answer (the calls it made stay in the history; the last ones asked for are not made).
 */
export class ToolRoundsError extends OrtGenAIError {
  constructor(readonly maxToolRounds: number) {
    super(`the model still asked for tool calls after ${maxToolRounds} round${maxToolRounds === 1 ? '' : 's'} of them (maxToolRounds)`, 'TOOL_ROUNDS');
  }
}
