// The TypeScript (here: JavaScript) twin of the Python E2E guide's Phi3Model: bound to a folder Python MLflow
// wrote (its pickle is never run), it loads the `model_dir` artifact and answers model_input.prompt[0].
import { Model } from 'ortgenai-node';
import { PythonModel } from 'ortgenai-node/mlflow';

export class Phi3Model extends PythonModel {
  async loadContext(context) {
    this.model = await Model.load(context.artifacts.model_dir);
  }

  async predict(_context, modelInput) {
    const tokenizer = this.model.tokenizer;
    const result = await this.model.generate(tokenizer.encode(modelInput.prompt[0]), { maxTokens: 6 });
    return [tokenizer.decode(result.tokens)];
  }

  dispose() {
    this.model?.dispose();
  }
}
