// Per-environment state and the pieces every wrapper class shares.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "errors.h"
#include "executor.h"
#include "runtime.h"

namespace oga {

struct GeneratorState;
struct EngineState;

// Token loops running on the executor for one environment. When the environment goes away (worker.terminate(),
// process exit) its cleanup hook stops them and waits: a loop must not outlive the libraries or the env it reports to.
struct LoopRegistry {
  std::mutex mu;
  std::condition_variable idle;
  std::vector<std::shared_ptr<GeneratorState>> running;
};

// Engines of one environment: their step threads are stopped and waited for at environment teardown, like loops.
struct EngineRegistry {
  std::mutex mu;
  std::condition_variable idle;
  std::vector<std::shared_ptr<EngineState>> running;
};

// One per napi_env (main thread and each worker_thread), so nothing JS-side is shared between environments.
struct AddonData {
  Napi::FunctionReference genai_error, disposed_error, validation_error;
  Napi::FunctionReference config, model, generator_params, generator, tokenizer, tokenizer_stream, adapters, engine,
      engine_request;
  std::shared_ptr<LoopRegistry> loops = std::make_shared<LoopRegistry>();
  std::shared_ptr<EngineRegistry> engines = std::make_shared<EngineRegistry>();
  std::shared_ptr<Executor> executor;
};

AddonData* GetAddonData(Napi::Env env);

// Throws a JS error unless oga::Load succeeded: no C API pointer may be called before.
void RequireRuntime(Napi::Env env);

// Base for classes that own one C handle. The handle is a shared_ptr whose deleter captures the handles it
// depends on (a Tokenizer's deleter holds its Model), so destruction order is always right, whichever of
// dispose(), the GC finalizer or an in-flight background call lets go last.
template <class Derived, class Handle>
class HandleWrap : public Napi::ObjectWrap<Derived> {
 public:
  explicit HandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

  // Creates the JS object for a freshly created handle.
  static Napi::Object Wrap(Napi::Env env, Napi::FunctionReference& ctor, std::shared_ptr<Handle> handle) {
    Napi::Object obj = ctor.New({});
    Derived::Unwrap(obj)->handle_ = std::move(handle);
    return obj;
  }

  // The handle behind a JS argument that must be an instance of this class.
  static std::shared_ptr<Handle> From(Napi::Env env, Napi::Value value, Napi::FunctionReference& ctor) {
    if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor.Value())) {
      Throw(env, ErrorKind::Validation, std::string("expected a native ") + Derived::kName);
    }
    return Derived::Unwrap(value.As<Napi::Object>())->Get(env);
  }

  const std::shared_ptr<Handle>& Get(Napi::Env env) const {
    if (!handle_) ThrowDisposed(env, Derived::kName);
    return handle_;
  }

 protected:
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    handle_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !handle_); }

  std::shared_ptr<Handle> handle_;
};

// Argument helpers: throw ValidationError with the argument's name.
// A string without NUL characters (the C API would cut it at the first one).
std::string StringValue(Napi::Env env, Napi::Value value, const std::string& name);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A number that is exactly a 32-bit integer (NaN, 1.5 and 2**31 are refused, not truncated).
int32_t TokenArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// Int32Array (zero-copy view) or array of numbers, copied into a vector the caller owns.
std::vector<int32_t> Tokens(Napi::Env env, Napi::Value value, const char* name);
Napi::Int32Array ToInt32Array(Napi::Env env, const int32_t* data, size_t count);

// Each class file registers itself on the exports.
void InitConfig(Napi::Env env, Napi::Object exports, AddonData* data);
void InitModel(Napi::Env env, Napi::Object exports, AddonData* data);
void InitGeneratorParams(Napi::Env env, Napi::Object exports, AddonData* data);
void InitGenerator(Napi::Env env, Napi::Object exports, AddonData* data);
void InitTokenizer(Napi::Env env, Napi::Object exports, AddonData* data);
void InitTokenizerStream(Napi::Env env, Napi::Object exports, AddonData* data);
void InitAdapters(Napi::Env env, Napi::Object exports, AddonData* data);
void InitLogging(Napi::Env env, Napi::Object exports, AddonData* data);
void InitEngine(Napi::Env env, Napi::Object exports, AddonData* data);

// Environment teardown: close every Engine of the environment and wait until their step threads are done.
void StopAllEngines(EngineRegistry& engines);

// Cross-class handle accessors (defined next to each class).
std::shared_ptr<OgaConfig> ConfigFrom(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaModel> ModelFrom(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaGeneratorParams> GeneratorParamsFrom(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaTokenizer> TokenizerFrom(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaAdapters> AdaptersFrom(Napi::Env env, Napi::Value v);

}  // namespace oga
