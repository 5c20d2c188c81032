// A pyfunc model from code for the scoring-server tests: upper-cases each prompt and appends the `suffix`
// param. Plain JavaScript so the built CLI (plain Node) can load it too.
import { PythonModel, setModel } from 'ortgenai-node/mlflow';

class UpperModel extends PythonModel {
  predict(_context, modelInput, params) {
    return modelInput.prompt.map((prompt) => {
      if (prompt === 'boom') throw new Error('the model exploded on purpose');
      return `${String(prompt).toUpperCase()}${params?.suffix ?? ''}`;
    });
  }
}

setModel(new UpperModel());
