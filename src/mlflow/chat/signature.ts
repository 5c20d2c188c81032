import {
  AnyType,
  ArrayType,
  ColSpec,
  DataType,
  MapType,
  ModelSignature,
  ObjectType,
  Property,
  Schema,
} from '../signature/index.js';

/**
 * The fixed signatures MLflow gives LLM tasks (mlflow-format.md §6.1, `mlflow/types/llm.py`): a model
 * saved with `task: 'llm/v1/chat'` carries exactly these, so MLflow tooling and the scoring server treat
 * it like a transformers chat model.
 */

const optional = false;

function messageProperties(): Property[] {
  const toolCall = new ObjectType([
    new Property('id', DataType.string),
    new Property('function', new ObjectType([new Property('name', DataType.string), new Property('arguments', DataType.string)])),
    new Property('type', DataType.string),
  ]);
  return [
    new Property('role', DataType.string),
    new Property('content', DataType.string, optional),
    new Property('name', DataType.string, optional),
    new Property('refusal', DataType.string, optional),
    new Property('tool_calls', new ArrayType(toolCall), optional),
    new Property('tool_call_id', DataType.string, optional),
  ];
}

function toolsType(): ArrayType {
  const parameter = new ObjectType([
    new Property('type', DataType.string),
    new Property('description', DataType.string, optional),
    new Property('enum', new ArrayType(DataType.string), optional),
    new Property('items', new ObjectType([new Property('type', DataType.string)]), optional),
  ]);
  const parameters = new ObjectType([
    new Property('properties', new MapType(parameter)),
    new Property('type', DataType.string, optional),
    new Property('required', new ArrayType(DataType.string), optional),
    new Property('additionalProperties', DataType.boolean, optional),
  ]);
  const fn = new ObjectType([
    new Property('name', DataType.string),
    new Property('description', DataType.string, optional),
    new Property('parameters', parameters),
    new Property('strict', DataType.boolean, optional),
  ]);
  return new ArrayType(new ObjectType([new Property('type', DataType.string), new Property('function', fn, optional)]));
}

function usageType(): ObjectType {
  return new ObjectType([
    new Property('prompt_tokens', DataType.long),
    new Property('completion_tokens', DataType.long),
    new Property('total_tokens', DataType.long),
  ]);
}

/** The columns every LLM response starts with. */
function responseHeader(): ColSpec[] {
  return [
    new ColSpec(DataType.string, 'id'),
    new ColSpec(DataType.string, 'object'),
    new ColSpec(DataType.long, 'created'),
    new ColSpec(DataType.string, 'model'),
  ];
}

/** `CHAT_MODEL_INPUT_SCHEMA` (newest). */
export function chatInputSchema(): Schema {
  return new Schema([
    new ColSpec(new ArrayType(new ObjectType(messageProperties())), 'messages'),
    new ColSpec(DataType.double, 'temperature', optional),
    new ColSpec(DataType.long, 'max_tokens', optional),
    new ColSpec(new ArrayType(DataType.string), 'stop', optional),
    new ColSpec(DataType.long, 'n', optional),
    new ColSpec(DataType.boolean, 'stream', optional),
    new ColSpec(DataType.double, 'top_p', optional),
    new ColSpec(DataType.long, 'top_k', optional),
    new ColSpec(DataType.double, 'frequency_penalty', optional),
    new ColSpec(DataType.double, 'presence_penalty', optional),
    new ColSpec(toolsType(), 'tools', optional),
    new ColSpec(new MapType(new AnyType()), 'custom_inputs', optional),
  ]);
}

/** `CHAT_MODEL_OUTPUT_SCHEMA` (newest: `usage` optional). */
export function chatOutputSchema(): Schema {
  const choice = new ObjectType([
    new Property('index', DataType.long),
    new Property('message', new ObjectType(messageProperties())),
    new Property('finish_reason', DataType.string),
  ]);
  return new Schema([
    ...responseHeader(),
    new ColSpec(new ArrayType(choice), 'choices'),
    new ColSpec(usageType(), 'usage', optional),
    new ColSpec(new MapType(new AnyType()), 'custom_outputs', optional),
  ]);
}

/** `llm/v1/completions`: `prompt` plus the classic sampling fields; `usage` required. */
export function completionsInputSchema(): Schema {
  return new Schema([
    new ColSpec(DataType.string, 'prompt'),
    new ColSpec(DataType.double, 'temperature', optional),
    new ColSpec(DataType.long, 'max_tokens', optional),
    new ColSpec(new ArrayType(DataType.string), 'stop', optional),
    new ColSpec(DataType.long, 'n', optional),
    new ColSpec(DataType.boolean, 'stream', optional),
  ]);
}

export function completionsOutputSchema(): Schema {
  const choice = new ObjectType([
    new Property('index', DataType.long),
    new Property('finish_reason', DataType.string),
    new Property('text', DataType.string),
  ]);
  return new Schema([...responseHeader(), new ColSpec(new ArrayType(choice), 'choices'), new ColSpec(usageType(), 'usage'),
  ]);
}

export const chatSignature = (): ModelSignature => new ModelSignature({ inputs: chatInputSchema(), outputs: chatOutputSchema() });
export const completionsSignature = (): ModelSignature =>
  new ModelSignature({ inputs: completionsInputSchema(), outputs: completionsOutputSchema() });
