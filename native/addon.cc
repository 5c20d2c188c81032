// Module entry point. Context-aware (NAPI_MODULE_INIT): every environment gets its own AddonData, so the addon
// loads in the main thread and in any number of worker_threads at once.
#include "addon.h"

#include "generator.h"

#include <dlfcn.h>

#include <cstring>

namespace oga {

AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void RequireRuntime(Napi::Env env) {
  if (!IsLoaded()) {
    throw Napi::Error::New(env, "the ORT-GenAI runtime is not loaded; call loadRuntime(ortPath, genaiPath) first");
  }
}

std::string StringValue(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsString()) Throw(env, ErrorKind::Validation, name + " must be a string");
  std::string s = value.As<Napi::String>().Utf8Value();
  // The C API takes NUL-terminated strings: anything after a NUL would be dropped without a word.
  if (s.find('\0') != std::string::npos) {
    Throw(env, ErrorKind::Validation, name + " must not contain NUL characters (U+0000)");
  }
  return s;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return StringValue(info.Env(), info.Length() > i ? info[i] : info.Env().Undefined(), name);
}

std::vector<int32_t> Tokens(Napi::Env env, Napi::Value value, const char* name) {
  if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    auto arr = value.As<Napi::Int32Array>();
    return std::vector<int32_t>(arr.Data(), arr.Data() + arr.ElementLength());
  }
  if (!value.IsArray()) {
    Throw(env, ErrorKind::Validation, std::string(name) + " must be an Int32Array or an array of integers");
  }
  auto arr = value.As<Napi::Array>();
  std::vector<int32_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
    if (d != static_cast<int32_t>(d)) {
      Throw(env, ErrorKind::Validation, std::string(name) + " must contain only 32-bit integers");
    }
    out[k] = static_cast<int32_t>(d);
  }
  return out;
}

int32_t TokenArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d = info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : 0.5;
  if (d != static_cast<int32_t>(d)) Throw(info.Env(), ErrorKind::Validation, std::string(name) + " must be a 32-bit integer");
  return static_cast<int32_t>(d);
}

Napi::Int32Array ToInt32Array(Napi::Env env, const int32_t* data, size_t count) {
  auto arr = Napi::Int32Array::New(env, count);
  if (count) std::memcpy(arr.Data(), data, count * sizeof(int32_t));
  return arr;
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

// Node unloads an addon when the last environment that loaded it ends (e.g. the only worker_thread using it), but
// detached Engine step threads may still be returning through our code then. Pin the library for the process.
void PinAddon() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinAddon), &info) && info.dli_fname) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  PinAddon();
  auto* data = new AddonData();
  env.SetInstanceData(data);
  // Created before the cleanup hook is added, so the hook (hooks run last-added first) runs while the executor's
  // thread-safe function still exists: loops and engines stop, then the executor waits for its threads.
  data->executor = std::make_shared<Executor>(env);
  env.AddCleanupHook([loops = data->loops, engines = data->engines, executor = data->executor]() {
    StopAllLoops(*loops);
    StopAllEngines(*engines);
    executor->Shutdown();
  });
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
