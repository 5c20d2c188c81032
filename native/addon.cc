// Module entry point. Context-aware (NAPI_MODULE_INIT): every environment gets its own AddonData, so the addon
// loads in the main thread and in any number of worker_threads at once.
#include "addon.h"

namespace oga {

AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void RequireRuntime(Napi::Env env) {
  if (!IsLoaded()) {
    throw Napi::Error::New(env, "the ORT-GenAI runtime is not loaded; call loadRuntime(ortPath, genaiPath) first");
  }
}

namespace {

Napi::Value LoadRuntime(const Napi::CallbackInfo& info) {
  std::string err = Load(StringArg(info, 0, "ortPath"), StringArg(info, 1, "genaiPath"));
  if (!err.empty()) throw Napi::Error::New(info.Env(), err);
  return info.Env().Undefined();
}

Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("loaded", IsLoaded());
  out.Set("ortPath", LoadedOrtPath());
  out.Set("genaiPath", LoadedGenAIPath());
  out.Set("genaiVersion", LoadedGenAIVersion());
  // Which Engine API the loaded library has: 'step' (0.15, OgaEngineStep), 'events' (0.16+, OgaEngineRun), or ''.
  std::string missing;
  const EngineApi engine_api = IsLoaded() ? EngineApiOf(&missing) : EngineApi::None;
  out.Set("engineApi", engine_api == EngineApi::Step ? "step" : engine_api == EngineApi::Events ? "events" : "");
  return out;
}

// src/errors.ts classes, so native code throws the very classes users `instanceof`.
Napi::Value SetErrorClasses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = GetAddonData(env);
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "expected an object of classes");
  Napi::Object classes = info[0].As<Napi::Object>();
  auto take = [&](const char* name, Napi::FunctionReference& ref) {
    Napi::Value v = classes.Get(name);
    if (!v.IsFunction()) throw Napi::TypeError::New(env, std::string(name) + " must be a class");
    ref = Napi::Persistent(v.As<Napi::Function>());
  };
  take("GenAIError", data->genai_error);
  take("DisposedError", data->disposed_error);
  take("ValidationError", data->validation_error);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  // Created before the cleanup hook is added, so the hook (hooks run last-added first) runs while the executor's
  // thread-safe function still exists. Every native thread of the environment is an executor worker, so this is
  // the one teardown: token loops and Engine step loops are cancelled and every worker is joined before the
  // environment (and, with the last environment, the addon) goes away.
  data->executor = std::make_shared<Executor>(env);
  env.AddCleanupHook([executor = data->executor]() { executor->Shutdown(); });
  exports.Set("loadRuntime", Napi::Function::New(env, LoadRuntime, "loadRuntime"));
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
  exports.Set("setErrorClasses", Napi::Function::New(env, SetErrorClasses, "setErrorClasses"));
  InitConfig(env, exports, data);
  InitModel(env, exports, data);
  InitGeneratorParams(env, exports, data);
  InitGenerator(env, exports, data);
  InitTokenizer(env, exports, data);
  InitTokenizerStream(env, exports, data);
  InitAdapters(env, exports, data);
  InitLogging(env, exports, data);
  InitEngine(env, exports, data);
  return exports;
}

}  // namespace

}  // namespace oga

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return oga::Init(env, exports); }

NODE_API_MODULE(ortgenai, InitAddon)
