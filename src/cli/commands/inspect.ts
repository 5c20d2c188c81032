import { formatBytes } from '../../modelbuilder/index.js';
import { parseCommandArgs, UsageError } from '../args.js';
import { colorsFor } from '../colors.js';
import { inspectModel, type MlflowReport, type ModelReport, type OrtGenAIReport } from '../model-report.js';

const HELP = `usage: ortgenai inspect <model folder|uri> [--json] [--all-files]

Tells what a model holds, without loading it:
  an ORT-GenAI model folder: model type, layers, attention and key/value heads, context length, vocabulary,
    special tokens, execution providers, ONNX graphs, tokenizer files, default search options;
  an MLflow model (folder, file:, runs:/ or models:/ URI, resolved as 'predict' and 'serve' do): flavors,
    signature, input example, requirements, task and metadata, and the ORT-GenAI model inside it if any;
  and every file with its size.

      --json       the same as one JSON document on standard output (keys as in genai_config.json and MLmodel)
      --all-files  list every file (by default the human output shows the largest 20)`;

const SHOWN_FILES = 20;

export async function run(argv: string[]): Promise<void> {
  const positional = argv.length > 0 && !argv[0].startsWith('-');
  const target = positional ? argv[0] : undefined;
  const values = parseCommandArgs(positional ? argv.slice(1) : argv, {
    json: { type: 'boolean', default: false },
    'all-files': { type: 'boolean', default: false },
  }, HELP);
  if (!values) return;
  if (!target) throw new UsageError(`the model folder or URI is required\n\n${HELP}`);
  const report = await inspectModel(target);
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(render(report, values['all-files']));
}

type Row = [label: string, value: string | undefined];

function render(report: ModelReport, allFiles: boolean): string {
  const c = colorsFor(process.stdout);
  const section = (title: string, rows: Row[]) => {
    const shown = rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
    const width = Math.max(0, ...shown.map(([label]) => label.length));
    return `${c.bold(title)}\n${shown.map(([label, value]) => `  ${label.padEnd(width)}  ${value.replaceAll('\n', `\n  ${' '.repeat(width)}  `)}`).join('\n')}\n`;
  };
  const parts = [`${c.bold(report.path)}\n`];
  if (report.mlflow) parts.push(section('MLflow model', mlflowRows(report.mlflow)));
  if (report.ortgenai) {
    const where = report.ortgenai.path === '.' ? '' : ` (${report.ortgenai.path}/)`;
    parts.push(section(`ORT-GenAI model${where}`, ortgenaiRows(report.ortgenai)));
  }
  const files = allFiles ? report.files : [...report.files].sort((a, b) => b.bytes - a.bytes).slice(0, SHOWN_FILES);
  const rows: Row[] = files.map((f) => [f.path, formatBytes(f.bytes)]);
  if (files.length < report.files.length) rows.push(['...', `${report.files.length - files.length} more (--all-files lists them)`]);
  parts.push(section(`files (${report.files.length}, ${formatBytes(report.total_bytes)})`, rows));
  return parts.join('\n');
}

const list = (items: readonly unknown[] | undefined) => (items?.length ? items.join(', ') : undefined);

/** `items` joined with commas, in lines of about `width` characters. */
function wrap(items: string[], width = 90): string {
  const lines: string[] = [];
  for (const item of items) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + item.length + 2 <= width) lines[last] += `, ${item}`;
    else lines.push(item);
  }
  return lines.join(',\n');
}

/** At most `max` characters of `text` (an input example can be megabytes). */
const clip = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function ortgenaiRows(o: OrtGenAIReport): Row[] {
  if (o.error) return [['error', o.error]];
  const heads = o.num_attention_heads === undefined ? undefined
    : `${o.num_attention_heads} attention, ${o.num_key_value_heads ?? '?'} key/value` +
      (o.head_size === undefined ? '' : ` (head size ${o.head_size}${o.hidden_size === undefined ? '' : `, hidden size ${o.hidden_size}`})`);
  const special = [
    o.bos_token_id === undefined ? '' : `bos ${o.bos_token_id}`,
    o.eos_token_id?.length ? `eos ${o.eos_token_id.join('/')}` : '',
    o.pad_token_id === undefined ? '' : `pad ${o.pad_token_id}`,
  ].filter(Boolean).join(', ');
  const graphs = o.graphs?.map((g) => `${g.name}: ${g.filename} (${g.bytes === null ? 'missing' : formatBytes(g.bytes)})`).join('\n');
  const tokenizer = o.tokenizer && (o.tokenizer.files.length
    ? `${o.tokenizer.files.join(', ')}${o.tokenizer.chat_template ? ' (with a chat template)' : ''}`
    : 'no tokenizer files');
  const search = o.search && wrap(Object.entries(o.search).map(([k, v]) => `${k} ${JSON.stringify(v)}`));
  return [
    ['type', o.model_type],
    ['layers', o.num_hidden_layers?.toString()],
    ['heads', heads],
    ['context', o.context_length === undefined ? undefined : `${o.context_length} tokens`],
    ['vocabulary', o.vocab_size === undefined ? undefined : `${o.vocab_size} tokens${special ? ` (${special})` : ''}`],
    ['providers', list(o.providers)],
    ['graphs', graphs],
    ['tokenizer', tokenizer],
    ['search', search],
  ];
}

/** A signature column or param in one line: `name: type`, with tensor shapes, array items and object fields. */
function columnText(col: unknown): string {
  const c = col as { name?: unknown; required?: boolean; default?: unknown; shape?: unknown };
  const name = typeof c.name === 'string' || typeof c.name === 'number' ? `${c.name}: ` : '';
  const optional = c.required === false ? ' (optional)' : '';
  const fallback = c.default === undefined ? '' : ` = ${JSON.stringify(c.default)}`;
  const shape = Array.isArray(c.shape) ? ` [${c.shape.join(', ')}]` : '';
  return `${name}${typeText(col)}${shape}${fallback}${optional}`;
}

function typeText(t: unknown): string {
  const spec = t as { type?: unknown; items?: unknown; properties?: Record<string, unknown>; 'tensor-spec'?: { dtype?: unknown; shape?: unknown } };
  if (spec.type === 'tensor') {
    const ts = spec['tensor-spec'];
    return `tensor ${ts?.dtype ?? '?'} [${Array.isArray(ts?.shape) ? ts.shape.join(', ') : '?'}]`;
  }
  if (spec.type === 'array') return `array<${typeText(spec.items)}>`;
  if (spec.type === 'object' && spec.properties) {
    return `{${Object.entries(spec.properties).map(([k, v]) => `${k}${(v as { required?: boolean }).required === false ? '?' : ''}: ${typeText(v)}`).join(', ')}}`;
  }
  if (typeof spec.type === 'string') return spec.type;
  const dtype = (t as { dtype?: unknown }).dtype; // a param's type
  return typeof dtype === 'string' ? dtype : JSON.stringify(t);
}

function schemaText(part: unknown): string | undefined {
  if (part === null || part === undefined) return undefined;
  if (!Array.isArray(part)) return clip(JSON.stringify(part));
  return part.map((col) => clip(columnText(col))).join('\n');
}

function flavorText(name: string, conf: Record<string, unknown>): string {
  const details = [
    typeof conf.loader_module === 'string' ? `loader ${conf.loader_module}` : '',
    conf.python_version ? `python ${conf.python_version}` : '',
    conf.task ? `task ${conf.task}` : '',
  ].filter(Boolean);
  return details.length ? `${name} (${details.join(', ')})` : name;
}

function mlflowRows(m: MlflowReport): Row[] {
  const example = m.input_example;
  const exampleText = example && (example.error
    ? `${example.info.artifact_path}: ${example.error}`
    : `${example.info.artifact_path ?? ''}${example.example === undefined ? '' : `: ${clip(JSON.stringify(example.example))}`}`);
  const created = [m.mlflow_version ? `mlflow ${m.mlflow_version}` : '', m.utc_time_created ? `at ${m.utc_time_created} UTC` : ''].filter(Boolean).join(' ');
  const otherMetadata = m.metadata && Object.fromEntries(Object.entries(m.metadata).filter(([k]) => k !== 'task'));
  return [
    ['saved by', created],
    ['run', m.run_id ?? undefined],
    ['model id', m.model_id ?? undefined],
    ['task', m.task],
    ['flavors', Object.entries(m.flavors).map(([name, conf]) => flavorText(name, conf)).join('\n')],
    ['inputs', schemaText(m.signature?.inputs)],
    ['outputs', schemaText(m.signature?.outputs)],
    ['params', schemaText(m.signature?.params)],
    ['input example', exampleText],
    ['requirements', list(m.requirements)],
    ['python', m.python_version],
    ['env files', list(m.env_files)],
    ['metadata', otherMetadata && Object.keys(otherMetadata).length ? clip(JSON.stringify(otherMetadata)) : undefined],
    ['model size', typeof m.model_size_bytes === 'number' ? formatBytes(m.model_size_bytes) : undefined],
  ];
}
