// mlflow-format.md §1.4: a custom PythonModel logged by MLflow 3.
export const GOLDEN_PYFUNC_MLMODEL = `artifact_path: mlflow-artifacts:/1/models/m-5f0c9b2e8d7a4c1e9b3a2f1d0e9c8b7a/artifacts
flavors:
  python_function:
    artifacts:
      model_dir:
        path: artifacts/phi3-mini-int4
        uri: /home/me/models/phi3-mini-int4
    cloudpickle_version: 3.1.1
    code: null
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.pyfunc.model
    python_model: python_model.pkl
    python_version: 3.11.9
    streamable: false
is_signature_from_type_hint: false
mlflow_version: 3.18.0
model_id: m-5f0c9b2e8d7a4c1e9b3a2f1d0e9c8b7a
model_size_bytes: 2048
model_uuid: m-5f0c9b2e8d7a4c1e9b3a2f1d0e9c8b7a
prompts: null
run_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9
saved_input_example_info:
  artifact_path: input_example.json
  serving_input_path: serving_input_example.json
  type: json_object
signature:
  inputs: '[{"type": "string", "name": "prompt", "required": true}]'
  outputs: '[{"type": "string", "required": true}]'
  params: null
type_hint_from_example: false
utc_time_created: '2025-08-01 12:34:56.789012'
`;
