// The Phi-3 E2E guide's custom pyfunc, as a JavaScript model file (models from code): loadContext builds the
// model from the `model_dir` artifact, predict encodes modelInput.prompt[0], generates greedily, decodes.
import { Model } from 'ortgenai-node';
import { PythonModel, setModel } from 'ortgenai-node/mlflow';

class PromptModel extends PythonModel {
  async loadContext(context) {
    this.model = await Model.load(context.artifacts.model_dir);
    this.maxTokens = context.modelConfig?.max_tokens ?? 8;
  }

  async predict(_context, modelInput, params) {
    const tokenizer = this.model.tokenizer;
    const result = await this.model.generate(tokenizer.encode(modelInput.prompt[0]), { maxTokens: params?.max_tokens ?? this.maxTokens });
    return [tokenizer.decode(result.tokens)];
  }

  async *predictStream(_context, modelInput, params) {
    yield* this.model.stream(modelInput.prompt, { maxTokens: params?.max_tokens ?? this.maxTokens });
  }

  dispose() {
    this.model?.dispose();
  }
}

setModel(new PromptModel());
