import type { IncomingMessage } from 'node:http';
import { AbortError, OrtGenAIError } from '../errors.js';

/** The request body is larger than the server accepts (HTTP 413). */
export class PayloadTooLargeError extends OrtGenAIError {
  readonly limit: number;
  constructor(limit: number, size?: number) {
    super(
      `The request body${size === undefined ? '' : ` (${size} bytes)`} exceeds the server's limit of ${limit} bytes. ` +
        'Send a smaller request or start the server with a larger --max-body.',
      'PAYLOAD_TOO_LARGE',
    );
    this.limit = limit;
  }
}

/**
 * Reads the whole body, refusing more than `limit` bytes. An oversized body is refused from its
 * Content-Length before any of it is read; past the limit the rest is drained, not buffered, so the
 * client still receives the 413 instead of a reset connection. Rejects with AbortError when the client
 * leaves before the end of the body, or with the signal's reason when it fires first (a slow sender
 * runs into the request timeout).
 */
export function readBody(req: IncomingMessage, limit: number, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new PayloadTooLargeError(limit, declared));
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      req.resume();
      reject(signal.reason);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      if (!req.complete) reject(new AbortError('The client closed the connection before sending the whole request body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
