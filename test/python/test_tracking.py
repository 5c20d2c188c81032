"""Tracking interop with a real MLflow 3.18 tracking server (SQLite backend, proxied artifacts): Python's own
MlflowClient reads what Node logged, and Node reads what Python logged."""

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from conftest import NODE_DIR, REPO


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    """`mlflow server` on a loopback port; stopped (with its worker) when the module is done."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination", str(root / "artifacts")],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, (root / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "mlflow server did not start:\n" + (root / "server.log").read_text()
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def client(tracking_server, monkeypatch):
    """Python's client and fluent API on the server for one test; the global tracking URI, the active
    experiment and MLFLOW_EXPERIMENT_ID (which mlflow.set_experiment exports to child processes) are put
    back afterwards, so later modules' fluent calls and Node children see what they saw before."""
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server)
    saved_experiment = os.environ.get("MLFLOW_EXPERIMENT_ID")
    with _use_tracking_uri(tracking_server):
        yield MlflowClient(tracking_server)
    mlflow.tracking.fluent._active_experiment_id = None
    if saved_experiment is None:
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    else:
        os.environ["MLFLOW_EXPERIMENT_ID"] = saved_experiment


def node(*args, uri):
    env = dict(os.environ, MLFLOW_TRACKING_URI=uri)
    result = subprocess.run(["node", str(NODE_DIR / "tracking.mjs"), *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_python_reads_what_node_logged(client, tracking_server, tmp_path):
    ids = node("write", "node-experiment", tmp_path, uri=tracking_server)
    run = client.get_run(ids["run_id"])
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "from-node"
    assert run.info.experiment_id == client.get_experiment_by_name("node-experiment").experiment_id
    assert run.data.params == {"model": "tiny", "max_tokens": "16"}
    assert run.data.tags["origin"] == "node" and run.data.tags["bench.kind"] == "smoke"
    history = client.get_metric_history(ids["run_id"], "decode_tps")
    assert [(m.step, m.value, m.timestamp) for m in history] == [(s, 100.0 + s, 1_700_000_000_000 + s) for s in range(5)]
    assert math.isnan(run.data.metrics["ratio"])
    child = client.get_run(ids["child_id"])
    assert child.data.tags["mlflow.parentRunId"] == ids["run_id"]
    assert child.info.status == "FINISHED"

    local = Path(mlflow.artifacts.download_artifacts(run_id=ids["run_id"], dst_path=str(tmp_path / "dl")))
    assert (local / "model" / "weights.bin").read_bytes() == bytes([1, 2, 3, 4])
    assert (local / "model" / "MLmodel").read_text() == "name: tiny\n"
    assert json.loads((local / "report.json").read_text()) == {"decode_tps": 104, "runs": [1, 2]}

    version = client.get_model_version_by_alias("node-model", "champion")
    assert version.version == ids["version"]
    assert version.run_id == ids["run_id"]
    registered = Path(mlflow.artifacts.download_artifacts(artifact_uri="models:/node-model@champion", dst_path=str(tmp_path / "reg")))
    assert (registered / "weights.bin").read_bytes() == bytes([1, 2, 3, 4])


def test_node_reads_what_python_logged(client, tracking_server, tmp_path):
    mlflow.set_experiment("python-experiment")
    with mlflow.start_run(run_name="from-python") as run:
        mlflow.log_params({"alpha": 0.1, "layers": 2})
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1_700_000_000_000 + step)
        mlflow.set_tag("origin", "python")
        mlflow.log_text("hello from python", "notes/hello.txt")
        mlflow.log_dict({"k": "v"}, "notes/d.json")
    client.create_registered_model("py-model")
    version = client.create_model_version("py-model", f"{run.info.artifact_uri}/notes", run_id=run.info.run_id)
    client.set_registered_model_alias("py-model", "staging", version.version)

    seen = node("read", run.info.run_id, tmp_path, uri=tracking_server)
    assert seen["params"] == {"alpha": "0.1", "layers": "2"}
    assert seen["tags"] == {"origin": "python"}
    assert seen["status"] == "FINISHED"
    assert seen["history"] == [[s, 1.0 / (s + 1), 1_700_000_000_000 + s] for s in range(3)]
    assert seen["artifacts"] == [["notes", True]]
    assert Path(seen["local"], "hello.txt").read_text() == "hello from python"
    assert json.loads(Path(seen["local"], "d.json").read_text()) == {"k": "v"}
    assert seen["alias"] == version.version


def test_node_errors_carry_the_servers_error_code(client, tracking_server):
    script = (
        "import { MlflowClient } from 'ortgenai-node/mlflow';"
        "const c = new MlflowClient();"
        "const r = await c.createRun('0'); await c.logParam(r.info.runId, 'p', 1);"
        "const codes = [];"
        "for (const f of [() => c.logParam(r.info.runId, 'p', 2), () => c.getExperiment('424242'), () => c.getRun('f'.repeat(32))])"
        "  await f().then(() => codes.push(null), (e) => codes.push([e.name, e.errorCode]));"
        "console.log(JSON.stringify(codes));"
    )
    env = dict(os.environ, MLFLOW_TRACKING_URI=tracking_server)
    result = subprocess.run(["node", "--input-type=module", "-e", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    codes = json.loads(result.stdout.strip().splitlines()[-1])
    assert codes == [["MlflowException", "INVALID_PARAMETER_VALUE"], ["MlflowException", "RESOURCE_DOES_NOT_EXIST"], ["MlflowException", "RESOURCE_DOES_NOT_EXIST"]]
