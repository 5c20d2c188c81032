// State shared by the Engine wrapper (engine.cc), its requests (engine_request.cc) and the step loop that drives
// ORT-GenAI's engine (engine_loop.h: engine_step_loop.cc or engine_event_loop.cc). The step loop is an Executor
// job: it creates the library's engine,
// makes every C call on it and its requests (so they are serialised without locking the library), and ends when
// the Engine is disposed or the environment's executor shuts down. JS only queues requests and stop flags for it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "addon.h"
#include "token_sink.h"

namespace oga {

struct EngineRequestState {
  std::shared_ptr<OgaGeneratorParams> params;  // holds the Model too
  std::vector<int32_t> prompt;
  std::shared_ptr<OgaTokenizer> tokenizer;  // null: deliver ids only
  std::shared_ptr<TokenSink> sink;
  std::atomic<bool> stop{false};
  bool started = false;  // JS thread: run() was called

  OgaTokenizerStream* stream = nullptr;  // step loop only
};

using RequestPtr = std::shared_ptr<EngineRequestState>;

struct EngineState {
  std::shared_ptr<OgaModel> model;
  std::mutex mu;
  std::condition_variable wake;
  // Guarded by `mu`: run() but not yet flush()ed, flushed but not yet given to the library, a stop was requested,
  // dispose() was called.
  std::vector<RequestPtr> queued, inbox;
  bool stop_requested = false;
  bool closing = false;
  // Guarded by `mu`: whether the step loop created the library's engine (error: it failed, and the loop ended).
  bool started = false;
  std::string start_error;

  void Close() {
    std::lock_guard<std::mutex> lock(mu);
    closing = true;
    wake.notify_all();
  }
  void RequestStop(EngineRequestState& r) {
    r.stop = true;
    std::lock_guard<std::mutex> lock(mu);
    stop_requested = true;
    wake.notify_all();
  }
  // Step loop: the engine exists, or could not be created (`error`).
  void Started(std::string error) {
    std::lock_guard<std::mutex> lock(mu);
    started = true;
    start_error = std::move(error);
    wake.notify_all();
  }
  // Worker thread: waits for Started(); throws its error as a Failure.
  void AwaitStart() {
    std::unique_lock<std::mutex> lock(mu);
    wake.wait(lock, [&] { return started; });
    if (!start_error.empty()) throw Failure(ErrorKind::GenAI, start_error);
  }
};

// The step loop, over the 0.15 Engine API (OgaEngineStep, engine_step_loop.cc) or the 0.16+ one (OgaEngineRun,
// engine_event_loop.cc), whichever the loaded library has; returns when the Engine is closed.
void RunStepLoop(const std::shared_ptr<EngineState>& state);
void RunEventLoop(const std::shared_ptr<EngineState>& state);

// engine.createRequest(params): the wrapped EngineRequest (engine_request.cc).
Napi::Object NewEngineRequest(Napi::Env env, const std::shared_ptr<EngineState>& engine, Napi::Value params);
void InitEngineRequest(Napi::Env env, Napi::Object exports, AddonData* data);

}  // namespace oga
