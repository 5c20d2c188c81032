// Runs the oracle jobs of test/python/test_oracle.py with this package's binding and prints the results as JSON.
// The test starts it with ORTGENAI_PYTHON set to its own interpreter, so the binding loads the very library file
// the official Python binding uses.
import { readFileSync } from 'node:fs';
import { Generator, GeneratorParams, Model, runtimeLibraries } from 'ortgenai-node';

const jobs = JSON.parse(readFileSync(0, 'utf8'));

async function attempt(fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    return { error: err.message };
  }
}

async function run(model, job) {
  const tokenizer = () => model.tokenizer;
  switch (job.kind) {
    case 'encode':
      return Array.from(tokenizer().encode(job.text));
    case 'decode':
      return tokenizer().decode(job.ids);
    case 'encode_batch': {
      const { data, shape } = await tokenizer().encodeBatch(job.texts);
      return { data: Array.from(data), shape };
    }
    case 'decode_batch':
      return tokenizer().decodeBatch(job.rows);
    case 'stream': {
      const stream = tokenizer().createStream();
      try {
        return job.ids.map((id) => stream.decode(id));
      } finally {
        stream.dispose();
      }
    }
    case 'chat_template':
      return tokenizer().applyChatTemplate(job.messages, { addGenerationPrompt: job.add_generation_prompt });
    case 'generate': {
      // The stepwise API, as the Python loop runs it: every sequence and, when asked, the first step's logits.
      // (plain Node 20 has no `using`)
      const params = new GeneratorParams(model);
      let generator;
      try {
        params.setSearchOptions(job.search);
        generator = await Generator.create(model, params);
        await generator.appendTokens(job.prompt);
        const logits = job.logits ? Array.from(generator.getLogits().data) : undefined;
        while (!generator.isDone()) await generator.generateNextToken();
        const sequences = [];
        for (let i = 0; i < (job.search.num_return_sequences ?? 1); i++) sequences.push(Array.from(generator.getSequence(i)));
        return { sequences, logits };
      } finally {
        generator?.dispose();
        params.dispose();
      }
    }
    default:
      throw new Error(`unknown job ${job.kind}`);
  }
}

const results = [];
const models = new Map();
for (const job of jobs) {
  if (!models.has(job.model)) models.set(job.model, await Model.load(job.model));
  results.push(await attempt(() => run(models.get(job.model), job)));
}
for (const model of models.values()) model.dispose();
console.log(JSON.stringify({ runtime: runtimeLibraries(), results }));
