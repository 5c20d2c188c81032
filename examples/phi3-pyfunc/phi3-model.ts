// The custom pyfunc of the Python E2E guide, in TypeScript: a model file that registers its instance with
// setModel() ("models from code"). pyfunc.saveModel copies this file into the MLflow model; loadModel
// runs it again and calls loadContext() with the model's own copies of the artifacts.
import { Model } from 'ortgenai-node';
import { PythonModel, setModel, type PythonModelContext } from 'ortgenai-node/mlflow';

type Input = { prompt: string[] };

export class Phi3Model extends PythonModel<Input, string[]> {
  private model?: Model;
  private maxTokens = 64;
  private temperature = 0;

  override async loadContext(context: PythonModelContext): Promise<void> {
    this.model = await Model.load(context.artifacts.model_dir);
    const config = context.modelConfig ?? {};
    if (typeof config.max_tokens === 'number') this.maxTokens = config.max_tokens;
    if (typeof config.temperature === 'number') this.temperature = config.temperature;
  }

  override async predict(_context: PythonModelContext, modelInput: Input): Promise<string[]> {
    const model = this.model!;
    const tokens = model.tokenizer.encode(modelInput.prompt[0]);
    const result = await model.generate(tokens, { maxTokens: this.maxTokens, temperature: this.temperature });
    return [model.tokenizer.decode(result.tokens)];
  }

  override dispose(): void {
    this.model?.dispose();
  }
}

setModel(new Phi3Model());
