/** Serving: MLflow's scoring protocol and an OpenAI-compatible API over a loaded pyfunc model. */
export { createServer, ModelServer, type CloseOptions, type ResponseEvent } from './server.js';
export { serve, type ServeOptions } from './serve.js';
export { type ServerOptions, type ResolvedServerOptions } from './options.js';
export { PayloadTooLargeError } from './body.js';
export { ServerBusyError } from './limiter.js';
