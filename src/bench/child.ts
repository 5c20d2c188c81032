// Entry point of one Node runner's process (forked by runner-process.ts): it loads its model once and
// answers the parent's requests one at a time, so the RSS it reports is that runner's alone.
import { readFileSync } from 'node:fs';
import { readModelInfo } from './model-info.js';
import type { Reply, Request, RunnerName } from './protocol.js';
import type { LoadedRunner, LoadRunner } from './runner.js';

const loaders: Record<Exclude<RunnerName, 'native' | 'python-og'>, () => Promise<{ load: LoadRunner }>> = {
  stepwise: () => import('./runners/stepwise.js'),
  generate: () => import('./runners/generate.js'),
  'generate-logprobs': () => import('./runners/generate-logprobs.js'),
  'ort-loop': () => import('./runners/ort-loop.js'),
  transformersjs: () => import('./runners/transformersjs.js'),
  'chat-first': () => import('./runners/chat-first.js'),
  chat: () => import('./runners/chat.js'),
  'chat-fresh': () => import('./runners/chat-fresh.js'),
  'node-llama-cpp': () => import('./runners/node-llama-cpp.js'),
};

// The peers three runners measure against are development dependencies, so an installed ortgenai-node lacks them;
// a missing one is named with the install command for the version we test against.
const PEERS: Partial<Record<RunnerName, string>> = {
  'ort-loop': 'onnxruntime-node', transformersjs: '@huggingface/transformers', 'node-llama-cpp': 'node-llama-cpp',
};

async function loadRunner(name: Exclude<RunnerName, 'native' | 'python-og'>, ...args: Parameters<LoadRunner>): ReturnType<LoadRunner> {
  try {
    return await (await loaders[name]()).load(...args);
  } catch (err) {
    const peer = PEERS[name];
    if (!peer || (err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String(err).includes(`'${peer}'`)) throw err;
    const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    throw new Error(`the ${name} runner needs '${peer}', which is not installed: npm install ${peer}@'${own.devDependencies[peer]}'`);
  }
}

const baselineRssBytes = process.memoryUsage.rss();
let runner: LoadedRunner | undefined;

async function handle(request: Request): Promise<Reply | undefined> {
  switch (request.type) {
    case 'load': {
      const { spec } = request;
      if (spec.runner === 'native' || spec.runner === 'python-og') throw new Error(`the ${spec.runner} runner is not a Node runner`);
      const t0 = performance.now();
      const info = await readModelInfo(spec.model);
      runner = await loadRunner(spec.runner, spec, info);
      return { type: 'loaded', loadMs: performance.now() - t0, baselineRssBytes, note: runner.note };
    }
    case 'run':
      if (!runner) throw new Error('no model loaded');
      return { type: 'generation', generation: await runner.generate(request.mode, request.concurrency) };
    case 'rss':
      return { type: 'rss', peakRssBytes: process.resourceUsage().maxRSS * 1024 }; // maxRSS is in kilobytes
    case 'quit':
      try {
        await runner?.dispose();
      } finally {
        process.disconnect();
      }
      return undefined;
  }
}

// Requests arrive one at a time (the parent awaits each reply), so no queue is needed.
process.on('message', (request: Request) => {
  handle(request).then(
    (reply) => reply && process.send!(reply),
    (err: unknown) => process.send!({ type: 'error', error: err instanceof Error ? err.message : String(err) } satisfies Reply),
  );
});
