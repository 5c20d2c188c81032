"""The official onnxruntime_genai Python binding as the oracle of ours: the same jobs run through both, on the
very same library file (Node is started with ORTGENAI_PYTHON = this interpreter), and must give the same
tokens, texts, sequences, logits and error texts, on our fixture models and the official test models."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime_genai as og
import pytest

from conftest import NODE_DIR, REPO

SHARED = REPO.parent / "shared" / "models"
TEXTS = ["The the, and", "Hello world", "a", "Ünïcödé ✓ 日本語 🙂"]
CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]


def model_dirs(fixture_models):
    dirs = {"tiny-deterministic": fixture_models / "tiny-deterministic", "tiny-random": fixture_models / "tiny-random"}
    for name in ("tiny-random-gpt2-fp32", "tiny-random-lfm2-fp32"):
        if (SHARED / "hf-internal-testing" / name).is_dir():
            dirs[name] = SHARED / "hf-internal-testing" / name
    return dirs


def jobs_for(name, path):
    model = str(path)
    prompt = [464, 262, 11, 290]  # valid in every test model's vocabulary (the shared GPT-2 has 1000 tokens)
    jobs = [{"kind": "encode", "text": t} for t in TEXTS]
    jobs += [
        {"kind": "decode", "ids": prompt},
        {"kind": "encode_batch", "texts": TEXTS[:3]},
        {"kind": "encode_batch", "texts": []},
        {"kind": "decode_batch", "rows": [prompt, prompt[:2] + [prompt[0], prompt[0]]]},
        {"kind": "stream", "ids": prompt + [262, 464]},
        {"kind": "chat_template", "messages": CHAT, "add_generation_prompt": True},
        {"kind": "chat_template", "messages": CHAT, "add_generation_prompt": False},
        {"kind": "generate", "prompt": prompt, "search": {"max_length": 12}, "logits": True},
        {"kind": "generate", "prompt": prompt, "search": {"max_length": 10, "num_beams": 3, "num_return_sequences": 2, "early_stopping": False}},
        {"kind": "generate", "prompt": prompt, "search": {"max_length": 2}},
    ]
    return [dict(job, model=model, name=name) for job in jobs]


def python_runs(job, models):
    model = models.setdefault(job["model"], og.Model(job["model"]))
    kind = job["kind"]
    tokenizer = og.Tokenizer(model) if kind != "generate" else None  # a model may have no tokenizer files
    if kind == "encode":
        return [int(t) for t in tokenizer.encode(job["text"])]
    if kind == "decode":
        return tokenizer.decode(np.array(job["ids"], dtype=np.int32))
    if kind == "encode_batch":
        matrix = tokenizer.encode_batch(job["texts"]).as_numpy()
        return {"data": [int(t) for t in matrix.reshape(-1)], "shape": list(matrix.shape)}
    if kind == "decode_batch":
        return list(tokenizer.decode_batch(og.Tensor(np.array(job["rows"], dtype=np.int32))))
    if kind == "stream":
        stream = tokenizer.create_stream()
        return [stream.decode(t) for t in job["ids"]]
    if kind == "chat_template":
        return tokenizer.apply_chat_template(messages=json.dumps(job["messages"]), add_generation_prompt=job["add_generation_prompt"])
    if kind == "generate":
        params = og.GeneratorParams(model)
        params.set_search_options(**job["search"])
        generator = og.Generator(model, params)
        generator.append_tokens(np.array(job["prompt"], dtype=np.int32))
        logits = [float(v) for v in np.asarray(generator.get_logits()).reshape(-1)] if job.get("logits") else None
        while not generator.is_done():
            generator.generate_next_token()
        count = job["search"].get("num_return_sequences", 1)
        return {"sequences": [[int(t) for t in generator.get_sequence(i)] for i in range(count)], "logits": logits}
    raise AssertionError(kind)


def attempt(job, models):
    try:
        return {"value": python_runs(job, models)}
    except Exception as err:  # the library's own error text is what is compared
        return {"error": str(err)}


@pytest.fixture(scope="module")
def answers(fixture_models):
    jobs = [job for name, path in model_dirs(fixture_models).items() for job in jobs_for(name, path)]
    env = dict(os.environ, ORTGENAI_PYTHON=sys.executable)
    node = subprocess.run(["node", str(NODE_DIR / "oracle.mjs")], input=json.dumps(jobs), cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert node.returncode == 0, node.stderr
    ours = json.loads(node.stdout)
    models = {}
    theirs = [attempt(job, models) for job in jobs]
    return jobs, ours, theirs


def test_node_loads_the_library_this_interpreter_uses(answers):
    _, ours, _ = answers
    assert ours["runtime"]["genai"] == str(Path(og.__file__).parent / "libonnxruntime-genai.so")
    assert ours["runtime"]["genaiVersion"] == og.__version__


def test_every_job_answers_alike(answers):
    jobs, ours, theirs = answers
    mismatches = []
    for job, mine, official in zip(jobs, ours["results"], theirs):
        label = f"{job['name']} {job['kind']} {json.dumps({k: v for k, v in job.items() if k not in ('model', 'name', 'kind')})[:80]}"
        if "error" in official or "error" in mine:
            # Ours passes the library's own text through, sometimes after saying which model or call failed.
            if "error" not in official or official["error"] not in mine.get("error", ""):
                mismatches.append((label, mine, official))
            continue
        a, b = mine["value"], official["value"]
        if job["kind"] == "generate" and b["logits"] is not None:
            if not np.allclose(a["logits"], b["logits"], rtol=1e-5, atol=1e-6):
                mismatches.append((label, "logits differ", float(np.max(np.abs(np.array(a["logits"]) - np.array(b["logits"]))))))
            a, b = a["sequences"], b["sequences"]
        elif job["kind"] == "generate":
            a, b = a["sequences"], b["sequences"]
        if a != b:
            mismatches.append((label, a, b))
    assert mismatches == []
