"""Python → Node: folders written by real MLflow 3.18 are read by Node as Python reads them, and the
E2E guide's custom wrapper is served by Node with a TypeScript implementation of the same model."""

import json
import os

import mlflow
import onnxruntime_genai as og
import pandas as pd
import pytest
from mlflow.models import Model, infer_signature

from conftest import NODE_DIR, run_node

EXAMPLE = {"prompt": "The the, and"}


class Phi3Model(mlflow.pyfunc.PythonModel):
    """The Phi-3 ONNX E2E guide's custom wrapper: og.Model, og.GeneratorParams and og.Tokenizer."""

    def load_context(self, context):
        self.model = og.Model(context.artifacts["model_dir"])
        self.tokenizer = og.Tokenizer(self.model)
        self.max_new = (context.model_config or {}).get("max_new_tokens", 6)

    def predict(self, context, model_input, params=None):
        tokens = self.tokenizer.encode(model_input["prompt"][0])
        search = og.GeneratorParams(self.model)
        search.set_search_options(max_length=len(tokens) + self.max_new, temperature=0.0)
        generator = og.Generator(self.model, search)
        generator.append_tokens(tokens)
        out = []
        while not generator.is_done():
            generator.generate_next_token()
            out.append(generator.get_next_tokens()[0])
        return [self.tokenizer.decode(out)]


@pytest.fixture(scope="module")
def store(fixture_models, tmp_path_factory):
    """A local tracking store written by MLflow: a logged, registered wrapper and a saved folder."""
    root = tmp_path_factory.mktemp("python-store")
    # MLflow 3.18 keeps the file store in maintenance mode behind this flag; Node reads that layout.
    saved_env = {k: os.environ.get(k) for k in ("MLFLOW_ALLOW_FILE_STORE", "MLFLOW_TRACKING_URI")}
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    os.environ["MLFLOW_TRACKING_URI"] = (root / "mlruns").as_uri()
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    model_dir = str(fixture_models / "tiny-deterministic")
    with mlflow.start_run() as run:
        logged = mlflow.pyfunc.log_model(
            name="model",
            python_model=Phi3Model(),
            artifacts={"model_dir": model_dir},
            input_example=EXAMPLE,
            signature=infer_signature(EXAMPLE, ["Run"]),
            extra_pip_requirements=["onnxruntime-genai==0.18.0"],
            registered_model_name="phi3",
        )
    helper = root / "helper.py"
    helper.write_text("VALUE = 1\n")
    saved = root / "saved"
    mlflow.pyfunc.save_model(
        str(saved), python_model=Phi3Model(), artifacts={"model_dir": model_dir}, code_paths=[str(helper)],
        model_config={"max_new_tokens": 6}, input_example=EXAMPLE, metadata={"owner": "python"},
        signature=infer_signature(EXAMPLE, ["Run"]),
    )
    yield {"root": root, "run_id": run.info.run_id, "logged": logged, "saved": saved}
    for key, value in saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def node_reads(uri, store, predict=None):
    args = [NODE_DIR / "read-folder.mjs", uri] + (["--predict", json.dumps(predict)] if predict is not None else [])
    env = dict(os.environ, MLFLOW_TRACKING_URI=(store["root"] / "mlruns").as_uri())
    return json.loads(run_node(*args, env=env, typescript=False))


@pytest.mark.parametrize("uri_kind", ["runs", "models version", "models latest", "model id", "folder"])
def test_node_reads_what_python_logged(store, uri_kind):
    logged = store["logged"]
    uri = {
        "runs": f"runs:/{store['run_id']}/model",
        "models version": "models:/phi3/1",
        "models latest": "models:/phi3/latest",
        "model id": logged.model_uri,
        "folder": str(store["saved"]),
    }[uri_kind]
    seen = node_reads(uri, store)
    local = mlflow.artifacts.download_artifacts(uri) if uri_kind != "folder" else uri
    python = Model.load(local)
    assert seen["flavors"] == sorted(python.flavors)
    assert seen["signature"] == python.signature.to_dict()
    assert seen["inputExample"] == EXAMPLE
    with open(os.path.join(local, "requirements.txt")) as f:
        assert seen["requirements"] == [line for line in f.read().splitlines() if line]
    assert seen["metadata"] == python.metadata
    if uri_kind != "folder":
        assert seen["runId"] == store["run_id"]


def test_requirements_and_metadata_as_python_wrote_them(store):
    seen = node_reads(str(store["saved"]), store)
    assert seen["metadata"] == {"owner": "python"}
    assert "onnxruntime-genai==0.18.0" in node_reads("models:/phi3/1", store)["requirements"]
    assert any(r.startswith("mlflow==3.18.0") for r in seen["requirements"])


@pytest.mark.parametrize("uri_kind", ["models:/phi3/1", "saved"])
def test_node_serves_the_wrapper_with_a_typescript_implementation(store, uri_kind):
    uri = str(store["saved"]) if uri_kind == "saved" else uri_kind
    python = mlflow.pyfunc.load_model(uri).predict(pd.DataFrame([EXAMPLE]))
    seen = node_reads(uri, store, predict=EXAMPLE)
    # The counting model's greedy ids do not depend on float rounding: both runtimes must agree exactly.
    assert seen["predict"] == python
    assert seen["served"] == {"status": 200, "body": {"predictions": python}}


@pytest.fixture(scope="module")
def transformers_chat(fixture_models, tmp_path_factory):
    """mlflow.transformers.save_model(task="llm/v1/chat") of a tiny GPT-2 initialised at random from a config,
    with the fixture's own tokenizer file: nothing comes from a hub."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(fixture_models / "tiny-deterministic" / "tokenizer.json"), eos_token="<|endoftext|>")
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, n_positions=128, vocab_size=len(tokenizer)))
    path = tmp_path_factory.mktemp("transformers") / "chat"
    # Explicit requirements: MLflow's inference of them imports torchvision, which is not installed.
    mlflow.transformers.save_model(
        transformers_model={"model": model, "tokenizer": tokenizer}, path=str(path), task="llm/v1/chat",
        pip_requirements=["transformers", "torch"],
    )
    return path


def test_chat_signature_and_task_metadata_equal_mlflow_transformers(transformers_chat, node_folders):
    out, _ = node_folders
    theirs = Model.load(str(transformers_chat))
    ours = Model.load(str(out / "chat"))
    assert ours.signature.to_dict() == theirs.signature.to_dict()
    assert theirs.metadata == {"task": "llm/v1/chat"}
    assert ours.metadata["task"] == theirs.metadata["task"]
    assert mlflow.pyfunc.load_model(str(transformers_chat)).predict({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})[0]["object"] == "chat.completion"


def test_node_reads_the_transformers_chat_folder(transformers_chat, store):
    seen = node_reads(str(transformers_chat), store)
    theirs = Model.load(str(transformers_chat))
    assert seen["flavors"] == ["python_function", "transformers"]
    assert seen["signature"] == theirs.signature.to_dict()
    assert seen["metadata"] == {"task": "llm/v1/chat"}
