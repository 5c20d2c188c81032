"""Why our prefill computes the lm_head over every prompt position (llama.cpp computes the last one only, which is
most of its TTFT lead on `small`, bench/README.md): ORT-GenAI hands the model a logits buffer of
[batch, prompt length, vocab] to fill, so a graph that slices the last position before the lm_head is refused by
the official runtime. The unchanged graph runs; the sliced one fails at the prefill with ONNX Runtime's shape
error. If a later ORT-GenAI accepts it, this test fails and the builder can emit the cheaper graph."""

import shutil

import numpy as np
import onnx
import onnxruntime_genai as og
import pytest
from onnx import helper, numpy_helper


def last_position_copy(src, dst):
    """`src` with hidden[:, -1:, :] fed to the node that produces `logits`."""
    shutil.copytree(src, dst)
    model = onnx.load(str(src / "model.onnx"))
    graph = model.graph
    producer = next(n for n in graph.node if "logits" in n.output)
    hidden = producer.input[0]
    graph.initializer.extend(
        numpy_helper.from_array(np.array([v], np.int64), name)
        for name, v in (("last_start", -1), ("last_end", 2**62), ("last_axis", 1))
    )
    sliced = helper.make_node("Slice", [hidden, "last_start", "last_end", "last_axis"], ["last_hidden"])
    graph.node.insert(list(graph.node).index(producer), sliced)
    producer.input[0] = "last_hidden"
    onnx.save(model, str(dst / "model.onnx"))
    return dst


def prefill(folder, prompt):
    model = og.Model(str(folder))
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(prompt) + 2)
    generator = og.Generator(model, params)
    generator.append_tokens(np.array(prompt, dtype=np.int32))
    return np.asarray(generator.get_logits())


def test_a_last_position_lm_head_is_refused_by_the_runtime(fixture_models, tmp_path):
    folder = fixture_models / "tiny-random"
    prompt = [464, 262, 11, 290]
    assert prefill(folder, prompt).shape[-1] > 0  # the graph as built runs
    sliced = last_position_copy(folder, tmp_path / "last-position")
    with pytest.raises(RuntimeError, match=r"has shape \{1,4,\d+\} but the computed output shape for this run is \{1,1,\d+\}"):
        prefill(sliced, prompt)
