// Engine: ORT-GenAI's request scheduler (OgaEngine), which batches the requests of one model into shared decode
// steps. One thread per Engine runs the step loop and makes every C call on the engine and its requests, so they
// are serialised without locking the library; JS only queues requests and stop flags for it. Each request's
// tokens reach JS in batches through its own TokenSink, like the Generator's token loop.
//
// What 0.15.2 does on CPU (see README "Engine"): without `engine.dynamic_batching` in genai_config.json it uses
// static batching — up to 4 requests share one KV cache, and requests added meanwhile wait until that whole batch
// has finished. OgaEngineRemoveRequest only marks a request: it keeps being decoded until its batch ends. So a
// stopped request is finished for JS at once, and when nothing but stopped requests is left, the engine is
// replaced by a fresh one instead of decoding them to the end.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "async.h"
#include "token_sink.h"

namespace oga {

struct EngineState;

namespace {

struct EngineRequestState {
  std::shared_ptr<OgaGeneratorParams> params;  // holds the Model too
  std::vector<int32_t> prompt;
  std::shared_ptr<OgaTokenizer> tokenizer;  // null: deliver ids only
  std::shared_ptr<TokenSink> sink;
  std::atomic<bool> stop{false};
  bool started = false;  // JS thread: run() was called

  OgaTokenizerStream* stream = nullptr;  // step thread only
};

using RequestPtr = std::shared_ptr<EngineRequestState>;

}  // namespace

struct EngineState {
  std::shared_ptr<OgaModel> model;
  std::mutex mu;
  std::condition_variable wake;
  // Guarded by `mu`: run() but not yet flush()ed, flushed but not yet given to the library, a stop was requested,
  // dispose() was called.
  std::vector<RequestPtr> queued, inbox;
  bool stop_requested = false;
  bool closing = false;

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
};

namespace {

struct EngineDeleter {
  void operator()(OgaEngine* e) const { api.OgaDestroyEngine(e); }
};
using EnginePtr = std::unique_ptr<OgaEngine, EngineDeleter>;

EnginePtr CreateEngine(OgaModel* model) {
  OgaEngine* raw = nullptr;
  Check(api.OgaCreateEngine(model, &raw));
  return EnginePtr(raw);
}

// The step loop. Owns the OgaEngine and every OgaRequest; nothing else touches them.
class StepLoop {
 public:
  StepLoop(std::shared_ptr<EngineState> state, EnginePtr engine) : s_(std::move(state)), engine_(std::move(engine)) {}

  void Run() {
    bool busy = false;
    for (;;) {
      std::vector<RequestPtr> added;
      bool closing = false;
      {
        std::unique_lock<std::mutex> lock(s_->mu);
        s_->wake.wait(lock, [&] { return s_->closing || s_->stop_requested || !s_->inbox.empty() || busy; });
        closing = s_->closing;
        added.swap(s_->inbox);
        if (closing) added.insert(added.end(), s_->queued.begin(), s_->queued.end());
        s_->stop_requested = false;
      }
      if (closing) {
        for (auto& r : added) Finish(*r, TokenSink::Outcome::Stopped);
        break;
      }
      for (auto& r : added) Admit(r);
      RetireStopped();
      busy = Step();
      if (live_.empty() && !abandoned_.empty()) {
        // Only stopped requests are left: start over with a fresh engine rather than decoding them to the end.
        DropEngine();
        busy = false;
      }
    }
    EndAll(TokenSink::Outcome::Stopped);
    DropEngine();
  }

 private:
  // Hands a new request to the library; a request it refuses fails on its own.
  void Admit(const RequestPtr& r) {
    if (r->stop) return Finish(*r, TokenSink::Outcome::Stopped);
    OgaRequest* request = nullptr;
    try {
      if (!engine_) engine_ = CreateEngine(s_->model.get());
      Check(api.OgaCreateRequest(r->params.get(), &request));
      OgaSequences* seqs = nullptr;
      Check(api.OgaCreateSequences(&seqs));
      std::unique_ptr<OgaSequences, void (*)(OgaSequences*)> owned(seqs, [](OgaSequences* p) { api.OgaDestroySequences(p); });
      Check(api.OgaAppendTokenSequence(r->prompt.data(), r->prompt.size(), seqs));
      Check(api.OgaRequestAddTokens(request, seqs));
      if (r->tokenizer) Check(api.OgaCreateTokenizerStream(r->tokenizer.get(), &r->stream));
      Check(api.OgaEngineAddRequest(engine_.get(), request));
      live_[request] = r;
    } catch (const Failure& f) {
      if (request) api.OgaDestroyRequest(request);
      Finish(*r, TokenSink::Outcome::Failed, f.message);
    }
  }

  // Stopped requests end for JS now. The library keeps decoding them with their batch (RemoveRequest only marks
  // them), so they stay until they complete or the engine is replaced.
  void RetireStopped() {
    for (auto it = live_.begin(); it != live_.end();) {
      if (!it->second->stop) {
        ++it;
        continue;
      }
      OgaResult* result = api.OgaEngineRemoveRequest(engine_.get(), it->first);
      if (result) api.OgaDestroyResult(result);
      abandoned_.push_back(it->first);
      Finish(*it->second, TokenSink::Outcome::Stopped);
      it = live_.erase(it);
    }
  }

  // One OgaEngineStep; returns whether the engine has more work.
  bool Step() {
    if (!engine_) return false;
    try {
      bool pending = false;
      Check(api.OgaEngineHasPendingRequests(engine_.get(), &pending));
      if (!pending) {
        // Everything completed; each request's last token was delivered when the step returned it.
        EndAll(TokenSink::Outcome::Done);
        return false;
      }
      OgaRequest* ready = nullptr;
      Check(api.OgaEngineStep(engine_.get(), &ready));
      if (ready) Collect(ready);
      return true;
    } catch (const Failure& f) {
      // A failed step leaves the batch in an unknown state: fail what it held and start over with a new engine.
      EndAll(TokenSink::Outcome::Failed, f.message);
      DropEngine();
      return false;
    }
  }

  // Delivers a ready request's new tokens, and ends it when the library says it is done.
  void Collect(OgaRequest* ready) {
    auto it = live_.find(ready);
    bool has = false;
    Check(api.OgaRequestHasUnseenTokens(ready, &has));
    while (has) {
      int32_t token = 0;
      Check(api.OgaRequestGetUnseenToken(ready, &token));
      if (it != live_.end()) {
        EngineRequestState& r = *it->second;
        const char* text = nullptr;
        if (r.stream) Check(api.OgaTokenizerStreamDecode(r.stream, token, &text));
        r.sink->Produce(&token, 1, text);
      }
      Check(api.OgaRequestHasUnseenTokens(ready, &has));
    }
    bool done = false;
    Check(api.OgaRequestIsDone(ready, &done));
    if (!done) return;
    if (it != live_.end()) {
      Finish(*it->second, TokenSink::Outcome::Done);
      live_.erase(it);
    } else {
      abandoned_.erase(std::remove(abandoned_.begin(), abandoned_.end(), ready), abandoned_.end());
    }
    api.OgaDestroyRequest(ready);
  }

  void Finish(EngineRequestState& r, TokenSink::Outcome outcome, std::string error = "") {
    if (r.stream) api.OgaDestroyTokenizerStream(r.stream);
    r.stream = nullptr;
    r.sink->Finish(outcome, std::move(error));
  }

  void EndAll(TokenSink::Outcome outcome, const std::string& error = "") {
    for (auto& [raw, r] : live_) {
      Finish(*r, outcome, error);
      api.OgaDestroyRequest(raw);
    }
    live_.clear();
  }

  // Destroys the engine and the stopped requests only it still used; the next request creates a new engine.
  void DropEngine() {
    engine_.reset();
    for (OgaRequest* raw : abandoned_) api.OgaDestroyRequest(raw);
    abandoned_.clear();
  }

  std::shared_ptr<EngineState> s_;
  EnginePtr engine_;
  std::unordered_map<OgaRequest*, RequestPtr> live_;
  std::vector<OgaRequest*> abandoned_;
};

class EngineRequest;

class Engine : public HandleWrap<Engine, EngineState> {
 public:
  static constexpr const char* kName = "Engine";
  using HandleWrap::HandleWrap;
  ~Engine() override {
    if (handle_) handle_->Close();
  }

  // create(model): Promise<Engine>. Creation is where an unsupported model fails (e.g. GPT-2: "Expected a
  // decoder-only model").
  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaModel> model = ModelFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    std::string missing = MissingEngineFunction();
    if (!missing.empty()) {
      Throw(env, ErrorKind::GenAI,
            "Engine is not available with ORT-GenAI " + GenAIVersionName() + ": it does not export " + missing +
                " (this binding drives the 0.15 Engine API, which 0.16 replaced)");
    }
    struct Created {
      std::shared_ptr<EngineState> state;
      std::shared_ptr<EnginePtr> engine;
    };
    return RunAsync<Created>(
        env,
        [model]() {
          Created out;
          out.engine = std::make_shared<EnginePtr>(CreateEngine(model.get()));
          out.state = std::make_shared<EngineState>();
          out.state->model = model;
          return out;
        },
        [](Napi::Env env, Created& created) -> Napi::Value {
          AddonData* data = GetAddonData(env);
          {
            std::lock_guard<std::mutex> lock(data->engines->mu);
            data->engines->running.push_back(created.state);
          }
          try {
            std::thread(
                [state = created.state, engine = std::move(*created.engine), registry = data->engines]() mutable {
                  StepLoop(state, std::move(engine)).Run();
                  std::lock_guard<std::mutex> lock(registry->mu);
                  auto& list = registry->running;
                  list.erase(std::find(list.begin(), list.end(), state));
                  registry->idle.notify_all();
                })
                .detach();
          } catch (const std::system_error& e) {
            // Out of threads: Engine.create rejects, the process goes on.
            std::lock_guard<std::mutex> lock(data->engines->mu);
            auto& list = data->engines->running;
            list.erase(std::find(list.begin(), list.end(), created.state));
            throw Napi::Error::New(env, std::string("cannot start the Engine's step thread: ") + e.what());
          }
          return Wrap(env, data->engine, created.state);
        });
  }

  // createRequest(params): EngineRequest — see EngineRequest.run.
  Napi::Value CreateRequest(const Napi::CallbackInfo& info);

  // flush(): hands the requests run() queued to the step thread. Separate from run() so that requests
  // submitted together reach the library together: its static batch is formed from what is queued at the
  // first step.
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    const std::shared_ptr<EngineState>& state = Get(info.Env());
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->queued.empty()) return info.Env().Undefined();
    state->inbox.insert(state->inbox.end(), state->queued.begin(), state->queued.end());
    state->queued.clear();
    state->wake.notify_all();
    return info.Env().Undefined();
  }

  // dispose(): requests in flight end as 'stopped'; the step thread frees the engine after its current step.
  Napi::Value DisposeEngine(const Napi::CallbackInfo& info) {
    if (handle_) handle_->Close();
    return Dispose(info);
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data);
};

class EngineRequest : public HandleWrap<EngineRequest, EngineRequestState> {
 public:
  static constexpr const char* kName = "EngineRequest";
  using HandleWrap::HandleWrap;

  // run(prompt, tokenizer | null, onChunk): Promise<'done' | 'stopped'>, once per request.
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const RequestPtr& r = Get(env);
    if (r->started) Throw(env, ErrorKind::GenAI, "an EngineRequest runs only once; create a new one");
    std::vector<int32_t> prompt = Tokens(env, info.Length() > 0 ? info[0] : env.Undefined(), "prompt");
    if (prompt.empty()) Throw(env, ErrorKind::Validation, "the prompt is empty");
    std::shared_ptr<OgaTokenizer> tokenizer;
    if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) tokenizer = TokenizerFrom(env, info[1]);
    if (info.Length() < 3 || !info[2].IsFunction()) Throw(env, ErrorKind::Validation, "onChunk must be a function");
    std::shared_ptr<EngineState> engine = engine_.lock();
    if (!engine) Throw(env, ErrorKind::Disposed, "Engine has been disposed and can no longer be used");
    r->started = true;
    r->prompt = std::move(prompt);
    r->tokenizer = std::move(tokenizer);
    r->sink = TokenSink::Create(env, info[2].As<Napi::Function>(), "ortgenai.Engine.run",
                                [weak = std::weak_ptr<EngineRequestState>(r), engine_weak = engine_]() {
                                  auto req = weak.lock();
                                  auto eng = engine_weak.lock();
                                  if (req && eng) eng->RequestStop(*req);
                                });
    Napi::Promise promise = r->sink->Promise();
    std::lock_guard<std::mutex> lock(engine->mu);
    if (engine->closing) {
      r->stop = true;
      r->sink->Finish(TokenSink::Outcome::Stopped);
    } else {
      engine->queued.push_back(r);
    }
    return promise;
  }

  // stop(): the request ends as 'stopped' after at most the step in progress.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_ && handle_->started) {
      if (auto engine = engine_.lock()) engine->RequestStop(*handle_);
    }
    return info.Env().Undefined();
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         InstanceMethod("run", &EngineRequest::Run),
                                         InstanceMethod("stop", &EngineRequest::Stop),
                                         InstanceMethod("dispose", &EngineRequest::Dispose),
                                         InstanceAccessor("disposed", &EngineRequest::Disposed, nullptr),
                                     });
    data->engine_request = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }

  std::weak_ptr<EngineState> engine_;
};

Napi::Value Engine::CreateRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::shared_ptr<EngineState>& state = Get(env);
  auto r = std::make_shared<EngineRequestState>();
  r->params = GeneratorParamsFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
  Napi::Object obj = EngineRequest::Wrap(env, GetAddonData(env)->engine_request, r);
  EngineRequest::Unwrap(obj)->engine_ = state;
  return obj;
}

void Engine::Init(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function cls = DefineClass(env, kName,
                                   {
                                       StaticMethod("create", &Engine::Create),
                                       InstanceMethod("createRequest", &Engine::CreateRequest),
                                       InstanceMethod("flush", &Engine::Flush),
                                       InstanceMethod("dispose", &Engine::DisposeEngine),
                                       InstanceAccessor("disposed", &Engine::Disposed, nullptr),
                                   });
  data->engine = Napi::Persistent(cls);
  exports.Set(kName, cls);
  EngineRequest::Init(env, exports, data);
}

}  // namespace

void InitEngine(Napi::Env env, Napi::Object exports, AddonData* data) { Engine::Init(env, exports, data); }

void StopAllEngines(EngineRegistry& engines) {
  std::unique_lock<std::mutex> lock(engines.mu);
  for (auto& state : engines.running) state->Close();
  engines.idle.wait(lock, [&] { return engines.running.empty(); });
}

}  // namespace oga
