"""Real scoring servers on loopback for the interop suite: `mlflow models serve` and `ortgenai serve`."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process and what it answers; stopped by `stop()` (fixtures do it)."""

    def __init__(self, name, args, port, env, log):
        self.name = name
        self.port = port
        self._log = open(log, "wb")
        self.process = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited ({self.process.returncode}); log: {Path(log).read_text()[-2000:]}")
            try:
                if self.request("GET", "/ping")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"{name} did not answer /ping within 120 s; log: {Path(log).read_text()[-2000:]}")

    def request(self, method, path, body=None, headers=None):
        """(status, content type, body bytes) of one request on a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.getheader("Content-Type") or "", response.read()
        finally:
            conn.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def mlflow_serve(model_dir, log_dir, env):
    port = free_port()
    env = dict(env, PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}")
    args = [str(VENV_BIN / "mlflow"), "models", "serve", "-m", str(model_dir), "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    return Server("mlflow models serve", args, port, env, log_dir / f"mlflow-{port}.log")


def ortgenai_serve(model_dir, log_dir, env):
    port = free_port()
    args = ["node", str(REPO / "dist" / "cli" / "index.js"), "serve", "-m", str(model_dir), "-p", str(port), "-q"]
    return Server("ortgenai serve", args, port, env, log_dir / f"ortgenai-{port}.log")


def json_or_text(body):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
