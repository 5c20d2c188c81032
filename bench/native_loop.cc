// The C++ reference loop: the same ORT-GenAI calls our binding makes, with nothing in between, so its
// numbers are the limit a binding can reach. It loads the runtime with the addon's own native/core/runtime.cc (ONNX
// Runtime by absolute path with RTLD_GLOBAL, then ORT-GenAI), so both sides run the same library with the same
// session options. It answers one JSON line per command; `ortgenai bench` drives it.
//
//   native_loop --model DIR --ort-lib PATH --genai-lib PATH --prompt-ids 1,2,3 --gen-tokens N
//               [--batch B] [--threads T] [--overlay GENAI_CONFIG_JSON]
// then commands on stdin (see main): `run sequential 1`, `run batched 8`, `rss`, `quit`.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime.h"

namespace {

using oga::api;

void Check(OgaResult* result) {
  if (!result) return;
  std::string message = api.OgaResultGetError(result);
  api.OgaDestroyResult(result);
  throw std::runtime_error(message);
}

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

long RssKb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  return 0;
}

struct Options {
  std::string model, ort_lib, genai_lib, mode = "sequential";
  std::string overlay;  // extra genai_config overlay, e.g. ORT profiling for a per-operator breakdown
  std::vector<int32_t> prompt;
  int gen_tokens = 128, batch = 1, threads = 1, concurrency = 1;
};

Options Parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> kv;
  for (int i = 1; i + 1 < argc; i += 2) kv[argv[i]] = argv[i + 1];
  auto get = [&](const char* k) -> std::string {
    auto it = kv.find(k);
    return it == kv.end() ? "" : it->second;
  };
  auto num = [&](const char* k, int fallback) { return get(k).empty() ? fallback : std::stoi(get(k)); };
  o.model = get("--model");
  o.ort_lib = get("--ort-lib");
  o.genai_lib = get("--genai-lib");
  o.overlay = get("--overlay");
  o.gen_tokens = num("--gen-tokens", o.gen_tokens);
  o.batch = num("--batch", o.batch);
  o.threads = num("--threads", o.threads);
  std::stringstream ids(get("--prompt-ids"));
  for (std::string id; std::getline(ids, id, ',');) o.prompt.push_back(std::stoi(id));
  if (o.model.empty() || o.ort_lib.empty() || o.genai_lib.empty() || o.prompt.empty())
    throw std::runtime_error("usage: native_loop --model DIR --ort-lib PATH --genai-lib PATH --prompt-ids 1,2,3 ...");
  return o;
}

OgaModel* LoadModel(const Options& o) {
  OgaConfig* config = nullptr;
  Check(api.OgaCreateConfig(o.model.c_str(), &config));
  // The same overlay the bench applies to our binding: explicit intra-op threads, no inter-op pool, and the
  // configured max_length of one run (the 0.16+ Engine sizes each request's KV cache by it).
  std::string overlay = R"({"model":{"decoder":{"session_options":{"intra_op_num_threads":)" +
                        std::to_string(o.threads) + R"(,"inter_op_num_threads":1}}},"search":{"max_length":)" +
                        std::to_string(o.prompt.size() + o.gen_tokens) + "}}";
  Check(api.OgaConfigOverlay(config, overlay.c_str()));
  if (!o.overlay.empty()) Check(api.OgaConfigOverlay(config, o.overlay.c_str()));
  OgaModel* model = nullptr;
  Check(api.OgaCreateModelFromConfig(config, &model));
  api.OgaDestroyConfig(config);
  return model;
}

// max_length = prompt + new tokens and min_length = max_length: EOS can never end a run early.
OgaGeneratorParams* MakeParams(OgaModel* model, const Options& o, int batch) {
  OgaGeneratorParams* params = nullptr;
  Check(api.OgaCreateGeneratorParams(model, &params));
  double max_length = static_cast<double>(o.prompt.size() + o.gen_tokens);
  Check(api.OgaGeneratorParamsSetSearchNumber(params, "max_length", max_length));
  Check(api.OgaGeneratorParamsSetSearchNumber(params, "min_length", max_length));
  Check(api.OgaGeneratorParamsSetSearchNumber(params, "batch_size", batch));
  Check(api.OgaGeneratorParamsSetSearchBool(params, "do_sample", false));
  return params;
}

OgaSequences* PromptSequences(const Options& o, int batch) {
  OgaSequences* seqs = nullptr;
  Check(api.OgaCreateSequences(&seqs));
  for (int b = 0; b < batch; ++b) Check(api.OgaAppendTokenSequence(o.prompt.data(), o.prompt.size(), seqs));
  return seqs;
}

struct Run {
  double ttft_ms = 0, decode_ms = 0, e2e_ms = 0;
  int new_tokens = 0, streams = 1;
  std::vector<int32_t> tokens;  // first sequence's new tokens, to check every runner produced the same ones
};

// One generation of `batch` sequences, timed like the JS runners: TTFT covers params, generator, prefill
// (AppendTokenSequences runs the prompt through the model) and selecting the first token.
Run Generate(OgaModel* model, const Options& o, int batch) {
  Run run;
  run.streams = batch;
  auto t0 = Clock::now();
  OgaGeneratorParams* params = MakeParams(model, o, batch);
  OgaGenerator* generator = nullptr;
  Check(api.OgaCreateGenerator(model, params, &generator));
  OgaSequences* seqs = PromptSequences(o, batch);
  Check(api.OgaGenerator_AppendTokenSequences(generator, seqs));
  Clock::time_point first;
  while (!api.OgaGenerator_IsDone(generator)) {
    Check(api.OgaGenerator_GenerateNextToken(generator));
    const int32_t* next = nullptr;
    size_t count = 0;
    Check(api.OgaGenerator_GetNextTokens(generator, &next, &count));
    if (run.new_tokens++ == 0) first = Clock::now();
    run.tokens.push_back(next[0]);
  }
  auto end = Clock::now();
  run.ttft_ms = MsSince(t0, first);
  run.decode_ms = MsSince(first, end);
  run.e2e_ms = MsSince(t0, end);
  api.OgaDestroySequences(seqs);
  api.OgaDestroyGenerator(generator);
  api.OgaDestroyGeneratorParams(params);
  return run;
}

// `concurrency` generations at once on the one model, each its own generator on its own thread.
Run GenerateOnThreads(OgaModel* model, const Options& o) {
  std::vector<Run> runs(o.concurrency);
  std::vector<std::string> errors(o.concurrency);
  auto t0 = Clock::now();
  std::vector<std::thread> workers;
  for (int i = 0; i < o.concurrency; ++i)
    workers.emplace_back([&, i] {
      try {
        runs[i] = Generate(model, o, o.batch);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& w : workers) w.join();
  for (auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
  Run total;
  total.e2e_ms = MsSince(t0, Clock::now());
  total.streams = o.concurrency * o.batch;
  total.tokens = runs[0].tokens;
  double first_ttft = runs[0].ttft_ms;
  for (auto& r : runs) {
    total.ttft_ms = std::max(total.ttft_ms, r.ttft_ms);
    first_ttft = std::min(first_ttft, r.ttft_ms);
    total.new_tokens += r.new_tokens;
  }
  total.new_tokens /= o.concurrency;
  total.decode_ms = total.e2e_ms - first_ttft;
  return total;
}

// `concurrency` requests scheduled by ORT-GenAI's Engine, driven from one thread (the one that created the
// engine: 0.16+ binds an engine to it). The engine is created once, outside the timing, and reused, as our Engine
// runner does. The loaded library's Engine API decides the loop: 0.15's OgaEngineStep or 0.16+'s OgaEngineRun.
OgaEngine* engine = nullptr;                 // freed before the model, in main
OgaEngineEventBuffer* event_buffer = nullptr;  // 0.16+: freed before the engine

// Counts a request's new token: the first of each request sets TTFT (the last request's first token).
struct EngineTally {
  Run total;
  Clock::time_point t0 = Clock::now();
  double first_ms = -1;
  std::map<const OgaRequest*, int> counts;
  const OgaRequest* first_request = nullptr;

  void Token(const OgaRequest* request, int32_t token) {
    if (request == first_request) total.tokens.push_back(token);
    if (counts[request]++ == 0) {
      double now = MsSince(t0, Clock::now());
      if (first_ms < 0) first_ms = now;
      total.ttft_ms = now;
    }
  }
  Run Done(int concurrency) {
    total.streams = concurrency;
    total.e2e_ms = MsSince(t0, Clock::now());
    total.decode_ms = total.e2e_ms - first_ms;
    for (auto& [request, count] : counts) total.new_tokens += count;
    total.new_tokens /= concurrency;
    return total;
  }
};

Run GenerateWithEventEngine(OgaModel* model, const Options& o) {
  if (!engine) Check(api.OgaCreateEngine(model, &engine));
  if (!event_buffer) Check(api.OgaCreateEngineEventBuffer(engine, 64, &event_buffer));
  EngineTally tally;
  std::vector<OgaRequest*> requests;
  for (int i = 0; i < o.concurrency; ++i) {
    OgaRequest* request = nullptr;
    Check(api.OgaEngineCreateRequest(engine, nullptr, &request));
    requests.push_back(request);
    tally.counts[request] = 0;
    OgaTurnOptions* turn = nullptr;
    Check(api.OgaRequestCreateTurnOptions(request, &turn));
    // Exactly gen_tokens, greedy, as MakeParams asks of a Generator.
    Check(api.OgaTurnOptionsSetMaxGeneratedTokens(turn, o.gen_tokens));
    Check(api.OgaTurnOptionsSetMinGeneratedTokens(turn, o.gen_tokens));
    Check(api.OgaTurnOptionsSetDoSample(turn, false));
    uint64_t turn_id = 0;
    OgaResult* begun = api.OgaRequestBeginTurn(request, turn, o.prompt.data(), o.prompt.size(), &turn_id);
    api.OgaDestroyTurnOptions(turn);
    Check(begun);
  }
  tally.first_request = requests[0];
  bool pending = true;
  while ((Check(api.OgaEngineHasPendingRequests(engine, &pending)), pending)) {
    Check(api.OgaEngineRun(engine, event_buffer));
    for (size_t i = 0, n = api.OgaEngineEventBufferGetCount(event_buffer); i < n; ++i) {
      const OgaEngineEvent* event = api.OgaEngineEventBufferGet(event_buffer, i);
      uint32_t flags = 0;
      Check(api.OgaEngineEventGetFlags(event, &flags));
      if (flags & oga::engine_event::kFailed) throw std::runtime_error("the Engine failed a request");
      if (!(flags & oga::engine_event::kToken)) continue;
      const OgaRequest* request = nullptr;
      int32_t token = 0;
      Check(api.OgaEngineEventGetRequest(event, &request));
      Check(api.OgaEngineEventGetToken(event, &token));
      tally.Token(request, token);
    }
  }
  for (auto* r : requests) {
    Check(api.OgaRequestClose(r));
    api.OgaDestroyRequest(r);
  }
  return tally.Done(o.concurrency);
}

Run GenerateWithStepEngine(OgaModel* model, const Options& o) {
  if (!engine) Check(api.OgaCreateEngine(model, &engine));
  EngineTally tally;
  std::vector<OgaGeneratorParams*> params;
  std::vector<OgaRequest*> requests;
  std::vector<OgaSequences*> seqs;
  for (int i = 0; i < o.concurrency; ++i) {
    params.push_back(MakeParams(model, o, 1));
    OgaRequest* request = nullptr;
    Check(api.OgaCreateRequest(params.back(), &request));
    seqs.push_back(PromptSequences(o, 1));
    Check(api.OgaRequestAddTokens(request, seqs.back()));
    Check(api.OgaEngineAddRequest(engine, request));
    requests.push_back(request);
    tally.counts[request] = 0;
  }
  tally.first_request = requests[0];
  bool pending = true;
  while (pending) {
    OgaRequest* ready = nullptr;
    Check(api.OgaEngineStep(engine, &ready));
    if (ready) {
      bool unseen = false;
      while ((Check(api.OgaRequestHasUnseenTokens(ready, &unseen)), unseen)) {
        int32_t token = 0;
        Check(api.OgaRequestGetUnseenToken(ready, &token));
        tally.Token(ready, token);
      }
    }
    Check(api.OgaEngineHasPendingRequests(engine, &pending));
  }
  for (auto* r : requests) api.OgaDestroyRequest(r);
  for (auto* s : seqs) api.OgaDestroySequences(s);
  for (auto* p : params) api.OgaDestroyGeneratorParams(p);
  return tally.Done(o.concurrency);
}

Run GenerateWithEngine(OgaModel* model, const Options& o) {
  std::string missing;
  switch (oga::EngineApiOf(&missing)) {
    case oga::EngineApi::Step: return GenerateWithStepEngine(model, o);
    case oga::EngineApi::Events: return GenerateWithEventEngine(model, o);
    case oga::EngineApi::None: break;
  }
  throw std::runtime_error("no Engine with ORT-GenAI " + oga::GenAIVersionName() + ": it does not export " + missing);
}

Run RunOnce(OgaModel* model, const Options& o) {
  if (o.mode == "sequential") return Generate(model, o, o.batch);
  if (o.mode == "batched") return Generate(model, o, o.batch * o.concurrency);
  if (o.mode == "concurrent") return GenerateOnThreads(model, o);
  if (o.mode == "engine") return GenerateWithEngine(model, o);
  throw std::runtime_error("unknown --mode " + o.mode + " (sequential, batched, concurrent, engine)");
}

// A JSON string body: quotes, backslashes and every control character escaped.
std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", c);
      out += code;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // Line protocol on stdin/stdout, so the bench can interleave this process's runs with the other runners':
  //   started:  {"loaded":true,"loadMs":...,"baselineRssBytes":...}   (or {"error":...} and exit 1)
  //   "run <mode> <concurrency>"  ->  {"timing":{...},"tokens":[...]}   (or {"error":...})
  //   "rss"                       ->  {"peakRssBytes":...}
  //   "quit"
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Options o;
  try {
    o = Parse(argc, argv);
  } catch (const std::exception& e) {
    std::printf("{\"error\":\"%s\"}\n", Escape(e.what()).c_str());
    return 1;
  }
  long baseline_kb = RssKb("VmRSS:");
  OgaModel* model = nullptr;
  OgaTokenizer* tokenizer = nullptr;
  try {
    auto t0 = Clock::now();
    std::string load_error = oga::Load(o.ort_lib, o.genai_lib);
    if (!load_error.empty()) throw std::runtime_error(load_error);
    model = LoadModel(o);
    // Our Model owns a tokenizer from the start; hold one too so resident memory compares like for like.
    Check(api.OgaCreateTokenizer(model, &tokenizer));
    std::printf("{\"loaded\":true,\"loadMs\":%.3f,\"baselineRssBytes\":%ld}\n", MsSince(t0, Clock::now()), baseline_kb * 1024);
  } catch (const std::exception& e) {
    std::printf("{\"error\":\"%s\"}\n", Escape(e.what()).c_str());
    return 1;
  }
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream command(line);
    std::string verb;
    command >> verb;
    if (verb == "quit") break;
    if (verb == "rss") {
      struct rusage usage {};
      getrusage(RUSAGE_SELF, &usage);
      std::printf("{\"peakRssBytes\":%ld}\n", usage.ru_maxrss * 1024L);  // ru_maxrss is in kilobytes
      continue;
    }
    try {
      if (verb != "run") throw std::runtime_error("unknown command '" + verb + "' (run, rss, quit)");
      Options job = o;
      command >> job.mode >> job.concurrency;
      Run r = RunOnce(model, job);
      std::printf("{\"timing\":{\"ttftMs\":%.4f,\"decodeMs\":%.4f,\"e2eMs\":%.4f,\"newTokens\":%d,\"streams\":%d,\"promptTokens\":%zu},\"tokens\":[",
                  r.ttft_ms, r.decode_ms, r.e2e_ms, r.new_tokens, r.streams, o.prompt.size());
      for (size_t i = 0; i < r.tokens.size(); ++i) std::printf("%s%d", i ? "," : "", r.tokens[i]);
      std::printf("]}\n");
    } catch (const std::exception& e) {
      std::printf("{\"error\":\"%s\"}\n", Escape(e.what()).c_str());
    }
  }
  if (event_buffer) api.OgaDestroyEngineEventBuffer(event_buffer);
  if (engine) api.OgaDestroyEngine(engine);
  api.OgaDestroyTokenizer(tokenizer);
  api.OgaDestroyModel(model);
  api.OgaShutdown();
  return 0;
}
