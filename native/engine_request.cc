// EngineRequest: one generation scheduled by an Engine (engine.h); the same run/stop contract as the Generator's
// token loop.
#include "engine.h"

namespace oga {
namespace {

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
    if (!engine) ThrowDisposed(env, "Engine");
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

}  // namespace

Napi::Object NewEngineRequest(Napi::Env env, const std::shared_ptr<EngineState>& engine, Napi::Value params) {
  auto r = std::make_shared<EngineRequestState>();
  r->params = GeneratorParamsFrom(env, params);
  Napi::Object obj = EngineRequest::Wrap(env, GetAddonData(env)->engine_request, r);
  EngineRequest::Unwrap(obj)->engine_ = engine;
  return obj;
}

void InitEngineRequest(Napi::Env env, Napi::Object exports, AddonData* data) { EngineRequest::Init(env, exports, data); }

}  // namespace oga
