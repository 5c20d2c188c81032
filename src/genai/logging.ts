import { binding } from '../native.js';

/**
 * ORT-GenAI's logging switches (`OgaSetLogBool` / `OgaSetLogString`), e.g. `setLogOption('enabled', true)`,
 * `setLogOption('model_input_values', true)`, `setLogOption('filename', '/tmp/genai.log')`.
 */
export function setLogOption(name: string, value: boolean | string): void {
  if (typeof value === 'boolean') binding().setLogBool(name, value);
  else binding().setLogString(name, value);
}

/**
 * Receives ORT-GenAI's log lines in JS instead of stderr (null restores stderr). Process-wide: the last thread to
 * call it receives the lines. The callback never keeps the process alive.
 */
export function onLog(callback: ((line: string) => void) | null): void {
  binding().setLogCallback(callback);
}
