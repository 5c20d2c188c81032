"""The official model builder's model with the dimensions of one of ours, for the interop test and the bench:
a randomly initialised Hugging Face Phi-3 (Phi3Config from our genai_config.json; nothing from a hub) with our
tokenizer files, converted by onnxruntime_genai.models.builder (int4, CPU).

usage: python bench/official_builder_model.py <our model folder> <work folder> --intermediate-size N
writes <work>/hf (the Hugging Face model) and <work>/official (the ORT-GenAI model folder)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ours", type=Path)
    parser.add_argument("work", type=Path)
    # genai_config.json does not carry the MLP width, so it is given (the presets' `intermediateSize`).
    parser.add_argument("--intermediate-size", type=int, required=True)
    args = parser.parse_args()

    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import Phi3Config, Phi3ForCausalLM

    config = json.loads((args.ours / "genai_config.json").read_text())["model"]
    decoder = config["decoder"]
    hf = args.work / "hf"
    torch.manual_seed(0)
    Phi3ForCausalLM(Phi3Config(
        vocab_size=config["vocab_size"], hidden_size=decoder["hidden_size"], intermediate_size=args.intermediate_size,
        num_hidden_layers=decoder["num_hidden_layers"], num_attention_heads=decoder["num_attention_heads"],
        num_key_value_heads=decoder["num_key_value_heads"], max_position_embeddings=config["context_length"],
        original_max_position_embeddings=config["context_length"], pad_token_id=config["pad_token_id"],
        bos_token_id=config["bos_token_id"], eos_token_id=config["eos_token_id"], rope_scaling=None,
    )).save_pretrained(hf)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(args.ours / name, hf / name)
    build = subprocess.run(
        [sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", str(hf), "-i", str(hf),
         "-o", str(args.work / "official"), "-p", "int4", "-e", "cpu", "-c", str(args.work / "cache")],
        capture_output=True, text=True, timeout=600,
    )
    if build.returncode != 0:
        sys.exit(build.stderr[-3000:])


if __name__ == "__main__":
    main()
