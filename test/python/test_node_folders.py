"""Node → Python: real MLflow 3.18 reads, loads, validates and runs every kind of folder ortgenai-node writes."""

import json

import mlflow
import pytest
from mlflow.models import Model, get_model_info, validate_serving_input
from mlflow.types.llm import CHAT_MODEL_INPUT_SCHEMA, CHAT_MODEL_OUTPUT_SCHEMA, COMPLETIONS_MODEL_INPUT_SCHEMA, COMPLETIONS_MODEL_OUTPUT_SCHEMA

FOLDERS = ["chat", "completions", "plain", "pythonmodel"]
VOLATILE = ("id", "created")


def normalise(value):
    """Predictions without what differs per call (completion ids, timestamps)."""
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in VOLATILE}
    return value


@pytest.mark.parametrize("name", FOLDERS)
def test_model_load_and_info(node_folders, name):
    out, _ = node_folders
    model = Model.load(str(out / name))
    info = get_model_info(str(out / name))
    assert "python_function" in model.flavors
    assert info.flavors == model.flavors
    assert info.signature == model.signature
    assert model.mlflow_version == mlflow.__version__
    assert model.saved_input_example_info["serving_input_path"] == "serving_input_example.json"


def test_llm_signatures_equal_mlflows_own(node_folders):
    out, _ = node_folders
    chat = Model.load(str(out / "chat"))
    completions = Model.load(str(out / "completions"))
    assert chat.signature.inputs == CHAT_MODEL_INPUT_SCHEMA
    assert chat.signature.outputs == CHAT_MODEL_OUTPUT_SCHEMA
    assert completions.signature.inputs == COMPLETIONS_MODEL_INPUT_SCHEMA
    assert completions.signature.outputs == COMPLETIONS_MODEL_OUTPUT_SCHEMA
    assert chat.metadata["task"] == "llm/v1/chat"


@pytest.mark.parametrize("name", FOLDERS)
def test_predictions_equal_nodes(node_folders, name):
    out, predictions = node_folders
    model = mlflow.pyfunc.load_model(str(out / name))
    for case in predictions[name]:
        assert normalise(model.predict(case["input"])) == normalise(case["output"]), case["input"]


@pytest.mark.parametrize("name", FOLDERS)
def test_saved_serving_example_validates(node_folders, name):
    out, predictions = node_folders
    serving_input = (out / name / "serving_input_example.json").read_text()
    result = validate_serving_input(str(out / name), serving_input)
    assert result is not None
    assert json.loads(json.dumps(normalise(result), default=str))


@pytest.mark.parametrize("name", ["chat", "pythonmodel"])
def test_runs_logged_by_node_load_through_runs_uris(node_folders, name, monkeypatch):
    out, predictions = node_folders
    # MLflow 3.18 reads the file tracking store only with this flag (it is in maintenance mode).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (out / "mlruns").as_uri())
    uri = predictions["logged"][name]
    run = mlflow.get_run(uri.split("/")[1])
    assert run.info.status == "FINISHED"
    model = mlflow.pyfunc.load_model(uri)
    case = predictions[name][0]
    assert normalise(model.predict(case["input"])) == normalise(case["output"])


def test_a_typescript_model_says_what_to_install_when_node_or_the_package_is_missing(node_folders, monkeypatch, tmp_path):
    out, _ = node_folders
    monkeypatch.delenv("NODE_PATH", raising=False)  # the model folder is under /tmp: nothing to resolve from there
    with pytest.raises(mlflow.exceptions.MlflowException, match=r"The ortgenai-node package was not found from .*npm install ortgenai-node"):
        mlflow.pyfunc.load_model(str(out / "pythonmodel"))
    monkeypatch.setenv("ORTGENAI_NODE", str(tmp_path / "no-node"))
    with pytest.raises(mlflow.exceptions.MlflowException, match=r"ORTGENAI_NODE=.*no-node is not an executable\. This model is a Node\.js model"):
        mlflow.pyfunc.load_model(str(out / "pythonmodel"))
    monkeypatch.delenv("ORTGENAI_NODE")
    monkeypatch.setenv("ORTGENAI_NODE_PACKAGE", str(tmp_path))
    with pytest.raises(mlflow.exceptions.MlflowException, match=r"ORTGENAI_NODE_PACKAGE=.* is not a package folder"):
        mlflow.pyfunc.load_model(str(out / "pythonmodel"))
