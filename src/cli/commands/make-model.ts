import { parseCommandArgs, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';
import { type BuildEvent, DEFAULT_SEED, PRESETS, PRESET_NAMES, TOKENIZER_KINDS, buildModel, formatBytes } from '../../modelbuilder/index.js';

const HELP = `usage: ortgenai make-model --preset <name> --out <dir> [--seed N] [--tokenizer <kind>] [--lora] [--gguf] [--force]

Presets:
${PRESET_NAMES.map((n) => `  ${n.padEnd(20)}${PRESETS[n].description}`).join('\n')}

Options:
  --preset <name>     which model to build (required)
  --out <dir>         output folder, created if missing (required)
  --seed <N>          weight seed, default ${DEFAULT_SEED}; same seed, same weights
  --tokenizer <kind>  ${TOKENIZER_KINDS.join(' or ')} instead of the preset's; the vocabulary follows it
  --lora              tiny-deterministic only: a LoRA pair in the head for adapters to replace
                      (write adapters with writeAdapter + deterministicShiftAdapter from the modelbuilder)
  --gguf              also write model.gguf: the same model for llama.cpp (phi3 architecture, Q4_0 with
                      the same int4 codes, same vocabulary); decoder presets only
  --force             overwrite the model files in a non-empty folder`;

export async function run(argv: string[]): Promise<void> {
  const values = parseCommandArgs(argv, {
    preset: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    tokenizer: { type: 'string' },
    lora: { type: 'boolean', default: false },
    gguf: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
  }, HELP);
  if (!values) return;
  if (!values.preset || !values.out) throw new UsageError(`--preset and --out are required\n\n${HELP}`);
  if (values.seed !== undefined && !/^\d+$/.test(values.seed)) {
    throw new UsageError(`--seed must be a non-negative integer, got '${values.seed}'`);
  }

  const progress = new BuildProgress();
  // Ctrl-C or a kill aborts the build instead of ending the process mid-write, so buildModel removes what it wrote.
  const interrupt = new AbortController();
  const abort = () => interrupt.abort();
  process.once('SIGINT', abort).once('SIGTERM', abort);
  const built = await buildModel({
    preset: values.preset,
    outDir: values.out,
    seed: values.seed === undefined ? undefined : Number(values.seed),
    force: values.force,
    tokenizer: values.tokenizer,
    lora: values.lora,
    gguf: values.gguf,
    onProgress: (e) => progress.update(e),
    signal: interrupt.signal,
  }).finally(() => {
    process.off('SIGINT', abort).off('SIGTERM', abort);
    progress.stop();
  });
  progress.finish();
  console.log(`wrote ${built.preset} to ${built.dir}`);
}

/** The plan up front, then the weights being written: a bar on a terminal (a line per tenth in logs). */
class BuildProgress {
  private started = 0;
  private bar?: ProgressBar;

  update(e: BuildEvent): void {
    if (e.type === 'plan') {
      this.started = performance.now();
      const n = e.parameterCount;
      const params = n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : String(n);
      const layers = `${e.spec.numHiddenLayers} layer${e.spec.numHiddenLayers === 1 ? '' : 's'}`;
      process.stderr.write(
        `${e.preset}: ${params} parameters, vocab ${e.spec.vocabSize}, ${layers}, seed ${e.seed}\n` +
          `needs ${formatBytes(e.diskBytes)} of disk${e.externalData ? ' (weights in model.onnx.data)' : ''}, about ${formatSeconds(e.estimatedSeconds)}\n`,
      );
      return;
    }
    this.bar ??= new ProgressBar('writing weights', e.totalBytes, { format: formatBytes });
    this.bar.update(e.bytesWritten);
  }

  /** Ends the bar, built or not. */
  stop(): void {
    this.bar?.stop();
  }

  finish(): void {
    process.stderr.write(`done in ${formatSeconds((performance.now() - this.started) / 1000)}\n`);
  }
}

function formatSeconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
