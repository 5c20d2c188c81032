// Engine: ORT-GenAI's request scheduler (OgaEngine), which batches the requests of one model into shared decode
// steps. The wrapper creates the step loop (an Executor job, engine.h) and hands it the requests run() queued.
#include "core/async.h"
#include "engine.h"

namespace oga {
namespace {

class Engine : public HandleWrap<Engine, EngineState> {
 public:
  static constexpr const char* kName = "Engine";
  using HandleWrap::HandleWrap;
  ~Engine() override {
    if (handle_) handle_->Close();
  }

  // create(model): Promise<Engine>. The step loop creates the library's engine on its own worker; creation is
  // where an unsupported model fails (e.g. GPT-2: "Expected a decoder-only model").
  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaModel> model = ModelFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    std::string missing;
    const EngineApi which = EngineApiOf(&missing);
    if (which == EngineApi::None) {
      Throw(env, ErrorKind::GenAI,
            "Engine is not available with ORT-GenAI " + GenAIVersionName() + ": it does not export " + missing);
    }
    auto state = std::make_shared<EngineState>();
    state->model = std::move(model);
    Executor::Job loop;
    loop.work = [state, which]() { which == EngineApi::Step ? RunStepLoop(state) : RunEventLoop(state); };
    // Environment teardown closes the Engine like dispose() does.
    loop.cancel = [weak = std::weak_ptr<EngineState>(state)]() {
      if (auto s = weak.lock()) s->Close();
    };
    GetAddonData(env)->executor->Submit(env, std::move(loop));  // no thread left: create() throws
    try {
      return RunAsync<std::shared_ptr<EngineState>>(
          env,
          [state]() {
            state->AwaitStart();
            return state;
          },
          [](Napi::Env env, std::shared_ptr<EngineState>& started) -> Napi::Value {
            return Wrap(env, GetAddonData(env)->engine, started);
          });
    } catch (const Napi::Error&) {
      state->Close();  // nobody will get this Engine: its step loop ends
      throw;
    }
  }

  // createRequest(params): EngineRequest — see EngineRequest.run.
  Napi::Value CreateRequest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return NewEngineRequest(env, Get(env), info.Length() > 0 ? info[0] : env.Undefined());
  }

  // flush(): hands the requests run() queued to the step loop. Separate from run() so that requests
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

  // dispose(): requests in flight end as 'stopped'; the step loop frees the engine after its current step.
  Napi::Value DisposeEngine(const Napi::CallbackInfo& info) {
    if (handle_) handle_->Close();
    return Dispose(info);
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
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
  }
};

}  // namespace

void InitEngine(Napi::Env env, Napi::Object exports, AddonData* data) {
  Engine::Init(env, exports, data);
  InitEngineRequest(env, exports, data);
}

}  // namespace oga
