"""MLflow pyfunc loader for models saved by ortgenai-node's ORT-GenAI flavor.

ortgenai-node copies this file into the model's ``code/`` folder and names it in
``flavors.python_function.loader_module``, so Python MLflow (``mlflow.pyfunc.load_model``,
``mlflow models serve``) can load and serve the same folder the Node package does. MLflow calls
``_load_pyfunc(data_path, model_config)`` with ``data_path`` = the ORT-GenAI model folder.

It answers like ortgenai-node's Node loader, in the shapes MLflow's transformers flavor uses:
- task ``llm/v1/chat``: OpenAI chat requests in, one ``chat.completion`` dict per input row out;
- task ``llm/v1/completions``: ``prompt`` in, one ``text_completion`` dict per row out;
- no task: ``prompt`` in, one generated string per row out.
Request fields override ``model_config``, which overrides the built-in defaults.
"""

import json
import os
import time
import uuid

DEFAULT_MAX_TOKENS = 256
_REQUEST_KEYS = ("temperature", "max_tokens", "stop", "n", "top_p", "top_k", "response_format", "seed")


def _load_pyfunc(data_path, model_config=None):
    return _OrtGenAIPyfunc(data_path, dict(model_config or {}))


def _read_flavor(data_path):
    """The ``ortgenai`` flavor entry of the MLmodel next to the model folder (task, source model name)."""
    import yaml

    mlmodel = os.path.join(os.path.dirname(os.path.abspath(data_path)), "MLmodel")
    with open(mlmodel, encoding="utf-8") as f:
        meta = yaml.safe_load(f) or {}
    return meta.get("flavors", {}).get("ortgenai") or {}


def _rows(model_input):
    """The input as a list of request dicts: a DataFrame's records, a list of dicts, or one dict."""
    if hasattr(model_input, "to_dict"):
        return model_input.to_dict(orient="records")
    if isinstance(model_input, dict):
        return [model_input]
    if isinstance(model_input, str):
        return [{"prompt": model_input}]
    return [row if isinstance(row, dict) else {"prompt": row} for row in model_input]


def _clean(value):
    """NaN/None from a DataFrame cell means 'not given'; numpy values become Python ones."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _text_prompt(row):
    """The ``prompt`` column, else the only column (a signature may name it otherwise), as in Node: text only."""
    value = row["prompt"] if "prompt" in row else next(iter(row.values())) if len(row) == 1 else None
    if not isinstance(value, str):
        from mlflow.exceptions import MlflowException

        raise MlflowException.invalid_parameter_value(
            f"A model without a task takes text prompts: a 'prompt' column (or a single text column), got {row!r}"
        )
    return value


def _merge_options(config, params, row):
    options = {"max_tokens": DEFAULT_MAX_TOKENS}
    options.update(config)
    options.update(params or {})
    for key in _REQUEST_KEYS:
        value = _clean(row.get(key))
        if value is not None:
            options[key] = value
    stop = options.get("stop")
    options["stop"] = [stop] if isinstance(stop, str) else list(stop or [])
    return options


def _truncate_at_stop(text, stops):
    """Cut ``text`` before the first stop string; returns (text, stopped)."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _sampling(options, index):
    """Search options for what a chat client means by its sampling fields, as Node's sampling.ts maps them:
    temperature 0 is greedy; temperature > 0, or top_p / top_k / seed / n > 1 without one, samples at that
    temperature (default 1) from the whole distribution (top_k 0, top_p 1) unless top_k / top_p narrow it;
    none of them keeps the model's genai_config. Choice ``index`` uses seed + index."""
    temperature = options.get("temperature")
    seed = options.get("seed")
    seeded = {} if seed is None else {"random_seed": int(seed) + index}
    if temperature == 0:
        return {"do_sample": False, **seeded}
    asked = any(options.get(k) is not None for k in ("temperature", "top_p", "top_k", "seed"))
    if not (asked or int(options.get("n") or 1) > 1 or options.get("do_sample") is True):
        return {} if options.get("do_sample") is None else {"do_sample": bool(options["do_sample"])}
    return {
        "do_sample": True,
        "temperature": float(temperature if temperature is not None else 1.0),
        "top_p": float(options.get("top_p") if options.get("top_p") is not None else 1.0),
        "top_k": int(options.get("top_k") if options.get("top_k") is not None else 0),
        **seeded,
    }


def _guidance(response_format):
    """The JSON schema for guidance; compact whitespace unless the schema sets ``x-guidance`` (as in Node)."""
    if not response_format or response_format.get("type") in (None, "text"):
        return None
    if response_format["type"] == "json_object":
        schema = {"type": "object"}
    else:
        schema = (response_format.get("json_schema") or {}).get("schema")
        if schema is None:
            raise ValueError("response_format.json_schema.schema is required for type 'json_schema'")
    if "x-guidance" not in schema:
        schema = dict(schema, **{"x-guidance": {"whitespace_flexible": False}})
    return json.dumps(schema)


class _OrtGenAIPyfunc:
    def __init__(self, data_path, config):
        import onnxruntime_genai as og

        self._og = og
        self.model = og.Model(data_path)
        self.tokenizer = og.Tokenizer(self.model)
        self.config = config
        flavor = _read_flavor(data_path)
        self.task = flavor.get("task")
        self.model_name = flavor.get("source_model_name") or ""
        with open(os.path.join(data_path, "genai_config.json"), encoding="utf-8") as f:
            self.context_length = (json.load(f).get("model") or {}).get("context_length")

    def _generate(self, prompt_tokens, options, index=0):
        """Choice ``index``: (text, completion token count, finish_reason)."""
        og = self._og
        max_tokens = int(options["max_tokens"])
        params = og.GeneratorParams(self.model)
        max_length = len(prompt_tokens) + max_tokens
        if self.context_length:
            max_length = min(max_length, self.context_length)
        search = {"max_length": max_length, **_sampling(options, index)}
        params.set_search_options(**search)
        guidance = _guidance(options.get("response_format"))
        if guidance is not None:
            params.set_guidance("json_schema", guidance)
        generator = og.Generator(self.model, params)
        generator.append_tokens(prompt_tokens)
        stream = self.tokenizer.create_stream()
        text, count = "", 0
        while not generator.is_done() and count < max_tokens:
            generator.generate_next_token()
            count += 1
            text += stream.decode(generator.get_next_tokens()[0])
            text, stopped = _truncate_at_stop(text, options["stop"])
            if stopped:  # the token that completed the stop string is not part of the answer (as in Node)
                return text, count - 1, "stop"
        # max_length is prompt + max_tokens (at most the context), so the generator is done either way: what ended
        # it tells.
        return text, count, ("length" if count >= max_length - len(prompt_tokens) else "stop")

    def _prompt(self, row):
        if self.task == "llm/v1/chat":
            messages = [{k: v for k, v in m.items() if v is not None} for m in _clean(row["messages"])]
            return self.tokenizer.apply_chat_template(messages=json.dumps(messages), add_generation_prompt=True)
        return _text_prompt(row)

    def predict(self, model_input, params=None):
        results = []
        for row in _rows(model_input):
            options = _merge_options(self.config, params, row)
            prompt_tokens = self.tokenizer.encode(self._prompt(row))
            if self.context_length and len(prompt_tokens) >= self.context_length:
                # A client's mistake, refused up front in Node's words (the library would fail mid-generation).
                from mlflow.exceptions import MlflowException

                raise MlflowException.invalid_parameter_value(
                    f"the prompt has {len(prompt_tokens)} tokens but the model's context is {self.context_length}"
                )
            choices, completion_tokens = [], 0
            for index in range(int(options.get("n") or 1)):
                text, count, finish = self._generate(prompt_tokens, options, index)
                completion_tokens += count
                choices.append((index, text, finish))
            if self.task is None:
                results.append(choices[0][1])
                continue
            usage = {
                "prompt_tokens": len(prompt_tokens),
                "completion_tokens": completion_tokens,
                "total_tokens": len(prompt_tokens) + completion_tokens,
            }
            results.append(_response(self.task, self.model_name, choices, usage))
        return results


def _response(task, model_name, choices, usage):
    chat = task == "llm/v1/chat"
    return {
        "id": ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex,
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": model_name,
        "choices": [
            {"index": i, "finish_reason": finish, "message": {"role": "assistant", "content": text}}
            if chat
            else {"index": i, "finish_reason": finish, "text": text}
            for i, text, finish in choices
        ],
        "usage": usage,
    }
