"""Shared fixtures of the Python interop suite: the repo's Node side, and MLflow folders Node writes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "node"
FIXTURES = REPO / ".cache" / "fixtures"


def run_node(*args, env=None, cwd=REPO, typescript=True):
    """Run Node.js (with the repo's TypeScript loader, tsx, unless told otherwise) and return its stdout."""
    loader = ["--import", "tsx"] if typescript else []
    result = subprocess.run(["node", *loader, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"node {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="session")
def fixture_models():
    """The project's own fixture models (built by vitest's global setup; built here when pytest runs alone)."""
    run_node("--input-type=module", "-e", "await (await import('./test/global-setup.ts')).default()")
    return FIXTURES


@pytest.fixture(scope="session")
def node_path(tmp_path_factory):
    """A NODE_PATH folder where `ortgenai-node` is this checkout, as a global npm install would provide it."""
    folder = tmp_path_factory.mktemp("node_path")
    (folder / "ortgenai-node").symlink_to(REPO, target_is_directory=True)
    return folder


@pytest.fixture(scope="session")
def node_env(node_path):
    """The environment a Python serving process gets: `node` on PATH and the package through NODE_PATH."""
    env = dict(os.environ)
    env["NODE_PATH"] = str(node_path)
    env.pop("ORTGENAI_NODE_PACKAGE", None)
    return env


@pytest.fixture(scope="session")
def node_folders(fixture_models, tmp_path_factory):
    """Every kind of folder Node writes (test/python/node/write-folders.mjs), with Node's predictions."""
    out = tmp_path_factory.mktemp("node-folders")
    subprocess.run(["node", str(NODE_DIR / "write-folders.mjs"), str(out), str(fixture_models / "tiny-deterministic")], cwd=REPO, check=True)
    predictions = json.loads((out / "node-predictions.json").read_text())
    return out, predictions


@pytest.fixture(autouse=True)
def _package_on_node_path(node_path, monkeypatch):
    # Loaders of Node models run `node` children that find ortgenai-node as a serving environment would.
    monkeypatch.setenv("NODE_PATH", str(node_path))
    monkeypatch.delenv("ORTGENAI_NODE_PACKAGE", raising=False)
