"""MLflow pyfunc loader for TypeScript/JavaScript PythonModels saved by ortgenai-node.

``pyfunc.saveModel`` / ``logModel`` of ortgenai-node copy this file into the model's ``code/`` folder and
name it in ``flavors.python_function.loader_module``, so ``mlflow.pyfunc.load_model`` and
``mlflow models serve`` load the folder. The model's code is JavaScript, so it runs where it can: in a
Node.js child process (``ortgenai pyfunc-worker``) that loads the folder with ortgenai-node itself and
answers JSON-lines requests; this module only moves data across the pipe.

Where things are found, as a serving environment provides them:
- ``node``: ``$ORTGENAI_NODE``, else ``node`` on ``PATH`` (Node.js >= 20);
- the package: ``$ORTGENAI_NODE_PACKAGE`` (its folder), else Node's own resolution of ``ortgenai-node``
  from the model folder and ``NODE_PATH`` (e.g. ``npm install -g ortgenai-node`` and
  ``NODE_PATH=$(npm root -g)``).
"""

import base64
import datetime
import json
import math
import os
import queue
import shutil
import subprocess
import threading

_INSTALL_HINT = (
    "This model is a Node.js model saved by ortgenai-node; serving it from Python needs Node.js >= 20 and the "
    "ortgenai-node package: install Node.js, then `npm install ortgenai-node` in the model folder or a parent, "
    "or install it globally and set NODE_PATH=$(npm root -g); or set ORTGENAI_NODE (the node executable) and "
    "ORTGENAI_NODE_PACKAGE (the package folder)."
)


def _load_pyfunc(data_path, model_config=None):
    return _NodePyfunc(os.path.abspath(data_path), dict(model_config or {}))


def _mlflow_error(message, code="INTERNAL_ERROR"):
    from mlflow.exceptions import MlflowException
    from mlflow.protos import databricks_pb2

    return MlflowException(message, error_code=getattr(databricks_pb2, code, databricks_pb2.INTERNAL_ERROR))


def _node_executable():
    given = os.environ.get("ORTGENAI_NODE")
    if given:
        if not shutil.which(given):
            raise _mlflow_error(f"ORTGENAI_NODE={given} is not an executable. {_INSTALL_HINT}")
        return given
    node = shutil.which("node")
    if not node:
        raise _mlflow_error(f"Node.js was not found (no ORTGENAI_NODE, no `node` on PATH). {_INSTALL_HINT}")
    return node


def _package_dir(node, model_dir):
    given = os.environ.get("ORTGENAI_NODE_PACKAGE")
    if given:
        if not os.path.isfile(os.path.join(given, "package.json")):
            raise _mlflow_error(f"ORTGENAI_NODE_PACKAGE={given} is not a package folder. {_INSTALL_HINT}")
        return given
    probe = subprocess.run(
        [node, "-e", "process.stdout.write(require.resolve('ortgenai-node/package.json'))"],
        cwd=model_dir,
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        raise _mlflow_error(f"The ortgenai-node package was not found from '{model_dir}'. {_INSTALL_HINT}")
    return os.path.dirname(probe.stdout)


def _jsonable(value):
    """Python/pandas/numpy values as JSON-ready ones (NaN and None are null, as MLflow reads them)."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):
        return [_jsonable(row) for row in value.to_dict(orient="records")]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


class _Worker:
    """The Node child process and the reader thread that routes its replies to waiting calls by id."""

    def __init__(self, node, package_dir, model_dir, model_config):
        read_fd, write_fd = os.pipe()
        cli = os.path.join(package_dir, "dist", "cli", "index.js")
        args = [node, cli, "pyfunc-worker", "-m", model_dir, "--reply-fd", str(write_fd)]
        if model_config:
            args += ["--model-config", json.dumps(_jsonable(model_config))]
        self._process = subprocess.Popen(args, stdin=subprocess.PIPE, pass_fds=(write_fd,), cwd=model_dir)
        os.close(write_fd)
        self._replies = os.fdopen(read_fd, "r", encoding="utf-8")
        self._lock = threading.Lock()
        self._waiting = {}
        self._next_id = 0
        first = self._replies.readline()
        ready = json.loads(first) if first else {"error": {"message": f"the Node.js worker exited ({self._process.wait()})"}}
        if not ready.get("ready"):
            error = ready.get("error") or {}
            raise _mlflow_error(f"Node.js could not load the model: {error.get('message')}", error.get("error_code", "INTERNAL_ERROR"))
        self.streamable = bool(ready.get("streamable"))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self._replies:
            reply = json.loads(line)
            with self._lock:
                target = self._waiting.get(reply.get("id"))
            if target is not None:
                target.put(reply)
        with self._lock:
            waiting = list(self._waiting.values())
        for target in waiting:
            target.put({"error": {"message": f"the Node.js worker exited ({self._process.wait()})", "error_code": "INTERNAL_ERROR"}})

    def call(self, method, data, params):
        """Yields the replies of one request: one ``result``, or ``chunk``s then ``done``."""
        replies = queue.Queue()
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            self._waiting[request_id] = replies
            line = json.dumps({"id": request_id, "method": method, "data": _jsonable(data), "params": _jsonable(params)})
            try:
                self._process.stdin.write(line.encode("utf-8") + b"\n")
                self._process.stdin.flush()
            except OSError as err:  # the worker is gone: say so instead of a bare BrokenPipeError
                self._waiting.pop(request_id, None)
                raise _mlflow_error(f"the Node.js worker exited ({self._process.poll()}): {err}") from err
        try:
            while True:
                reply = replies.get()
                if "error" in reply:
                    error = reply["error"]
                    if "error_code" not in error:  # not an MlflowException in Node: a plain error here too
                        raise RuntimeError(error.get("message", "unknown error"))
                    raise _mlflow_error(error.get("message", "unknown error"), error["error_code"])
                yield reply
                if "result" in reply or reply.get("done"):
                    return
        finally:
            with self._lock:
                self._waiting.pop(request_id, None)

    def close(self):
        if self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


class _NodePyfunc:
    def __init__(self, model_dir, model_config):
        node = _node_executable()
        self._worker = _Worker(node, _package_dir(node, model_dir), model_dir, model_config)

    def predict(self, model_input, params=None):
        for reply in self._worker.call("predict", model_input, params):
            return reply["result"]

    def predict_stream(self, model_input, params=None):
        for reply in self._worker.call("predict_stream", model_input, params):
            if "chunk" in reply:
                yield reply["chunk"]

    def __del__(self):
        worker = getattr(self, "_worker", None)
        if worker is not None:
            worker.close()
