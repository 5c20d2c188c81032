// ORT-GenAI's logging switches (OgaSetLogBool/String) and its log callback, delivered to one JS function.
// The C callback has no user-data pointer, so the subscriber is process-wide: the environment that set it last
// owns it until it clears it or is torn down.
#include <mutex>

#include "addon.h"

namespace oga {
namespace {

std::mutex log_mutex;
Napi::ThreadSafeFunction log_tsfn;
napi_env log_owner = nullptr;

void OnLog(const char* text, size_t length) {
  std::lock_guard<std::mutex> lock(log_mutex);
  if (!log_owner) return;
  auto* message = new std::string(text, length);
  napi_status status = log_tsfn.NonBlockingCall(message, [](Napi::Env env, Napi::Function fn, std::string* m) {
    if (env && fn) fn.Call({Napi::String::New(env, *m)});
    delete m;
  });
  if (status != napi_ok) delete message;
}

// Caller holds log_mutex.
void ClearLocked() {
  if (!log_owner) return;
  api.OgaSetLogCallback(nullptr);
  log_tsfn.Release();
  log_owner = nullptr;
}

Napi::Value SetLogBool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRuntime(env);
  std::string name = StringArg(info, 0, "name");
  Check(env, api.OgaSetLogBool(name.c_str(), info.Length() > 1 && info[1].ToBoolean()));
  return env.Undefined();
}

Napi::Value SetLogString(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRuntime(env);
  std::string name = StringArg(info, 0, "name"), value = StringArg(info, 1, "value");
  Check(env, api.OgaSetLogString(name.c_str(), value.c_str()));
  return env.Undefined();
}

// setLogCallback(fn | null)
Napi::Value SetLogCallback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRuntime(env);
  std::lock_guard<std::mutex> lock(log_mutex);
  ClearLocked();
  if (info.Length() > 0 && info[0].IsFunction()) {
    log_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "ortgenai.log", 0, 1);
    log_tsfn.Unref(env);  // a log subscriber must not keep the process alive
    log_owner = env;
    Check(env, api.OgaSetLogCallback(OnLog));
    env.AddCleanupHook([e = static_cast<napi_env>(env)]() {
      std::lock_guard<std::mutex> lock(log_mutex);
      if (log_owner == e) ClearLocked();
    });
  }
  return env.Undefined();
}

}  // namespace

void InitLogging(Napi::Env env, Napi::Object exports, AddonData*) {
  exports.Set("setLogBool", Napi::Function::New(env, SetLogBool, "setLogBool"));
  exports.Set("setLogString", Napi::Function::New(env, SetLogString, "setLogString"));
  exports.Set("setLogCallback", Napi::Function::New(env, SetLogCallback, "setLogCallback"));
}

}  // namespace oga
