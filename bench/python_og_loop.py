"""The official onnxruntime_genai Python binding's token loop, as a bench runner (`--runners python-og`).

It speaks bench/native_loop.cc's line protocol on stdin/stdout, so the bench interleaves its rounds with the
other runners' and computes same-run ratios:
  started:  {"loaded":true,"loadMs":...,"baselineRssBytes":...}   (or {"error":...} and exit 1)
  "run <mode> <concurrency>"  ->  {"timing":{...},"tokens":[...]}   (or {"error":...})
  "rss"                       ->  {"peakRssBytes":...}
  "quit"
Timing and search options are the C++ loop's: TTFT covers params, generator, prefill and the first token;
min_length = max_length, so EOS never ends a run; greedy. Modes: sequential, batched (one generator with
`concurrency` sequences) and concurrent (`concurrency` generators on Python threads; the binding releases the
GIL while ORT runs). The Python binding has no 0.15-style Engine, so it has no engine mode.
"""

import argparse
import json
import resource
import sys
import threading
import time


def rss_bytes(field="VmRSS:"):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def ms_since(start, end=None):
    return ((end or time.perf_counter()) - start) * 1000


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompt-ids", required=True)
    parser.add_argument("--gen-tokens", type=int, required=True)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args()


def main():
    options = parse()
    prompt = [int(t) for t in options.prompt_ids.split(",")]
    baseline = rss_bytes()
    try:
        import numpy as np
        import onnxruntime_genai as og

        start = time.perf_counter()
        config = og.Config(options.model)
        # The session options every runner applies (src/bench/runner.ts, bench/native_loop.cc).
        config.overlay(json.dumps({"model": {"decoder": {"session_options": {
            "intra_op_num_threads": options.threads, "inter_op_num_threads": 1,
        }}}, "search": {"max_length": len(prompt) + options.gen_tokens}}))
        model = og.Model(config)
        tokenizer = og.Tokenizer(model)  # held, as every runner holds one, so resident memory compares alike
        print(json.dumps({"loaded": True, "loadMs": ms_since(start), "baselineRssBytes": baseline}), flush=True)
    except Exception as err:  # reported to the bench as this runner's error
        print(json.dumps({"error": f"{type(err).__name__}: {err}"}), flush=True)
        return 1

    def generate(batch):
        run = {"tokens": [], "new": 0}
        t0 = time.perf_counter()
        params = og.GeneratorParams(model)
        max_length = len(prompt) + options.gen_tokens
        params.set_search_options(max_length=max_length, min_length=max_length, batch_size=batch, do_sample=False)
        generator = og.Generator(model, params)
        generator.append_tokens(np.array([prompt] * batch, dtype=np.int32))
        first = None
        while not generator.is_done():
            generator.generate_next_token()
            token = int(generator.get_next_tokens()[0])
            if run["new"] == 0:
                first = time.perf_counter()
            run["new"] += 1
            run["tokens"].append(token)
        end = time.perf_counter()
        run.update(ttft=ms_since(t0, first), decode=ms_since(first, end), e2e=ms_since(t0, end), streams=batch)
        return run

    def concurrently(count):
        runs, errors = [None] * count, [None] * count

        def work(i):
            try:
                runs[i] = generate(options.batch)
            except Exception as err:
                errors[i] = err

        t0 = time.perf_counter()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for err in errors:
            if err:
                raise err
        e2e = ms_since(t0)
        first = min(r["ttft"] for r in runs)
        return {"tokens": runs[0]["tokens"], "new": sum(r["new"] for r in runs) // count, "ttft": max(r["ttft"] for r in runs),
                "decode": e2e - first, "e2e": e2e, "streams": count * options.batch}

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "rss":
            print(json.dumps({"peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}), flush=True)
            continue
        try:
            if words[0] != "run":
                raise ValueError(f"unknown command '{words[0]}' (run, rss, quit)")
            mode, concurrency = words[1], int(words[2])
            if mode == "sequential":
                run = generate(options.batch)
            elif mode == "batched":
                run = generate(options.batch * concurrency)
            elif mode == "concurrent":
                run = concurrently(concurrency)
            else:
                raise ValueError(f"mode '{mode}' is not available in the Python binding's loop (sequential, batched, concurrent)")
            timing = {"ttftMs": run["ttft"], "decodeMs": run["decode"], "e2eMs": run["e2e"], "newTokens": run["new"],
                      "streams": run["streams"], "promptTokens": len(prompt)}
            print(json.dumps({"timing": timing, "tokens": run["tokens"]}), flush=True)
        except Exception as err:
            print(json.dumps({"error": f"{type(err).__name__}: {err}"}), flush=True)
    del tokenizer, model
    return 0


if __name__ == "__main__":
    sys.exit(main())
