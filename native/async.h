// Run a blocking C API call on libuv's thread pool and settle a Promise with its result.
// Used for calls that take milliseconds to seconds (model load, prefill, one decode step, batch encode); the
// long-running token loop has its own thread instead (token_loop.cc) so it never holds a pool thread.
#pragma once

#include <napi.h>

#include <functional>
#include <string>
#include <utility>

#include "errors.h"

namespace oga {

template <class Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Settle = std::function<Napi::Value(Napi::Env, Result&)>;

  PromiseWorker(Napi::Env env, const char* name, Work work, Settle settle)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        settle_(std::move(settle)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      result_ = work_();
    } catch (const Failure& f) {
      kind_ = f.kind;
      SetError(f.message);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  // Settling can itself fail while the environment is shutting down (worker.terminate()): then nobody is waiting.
  void OnOK() override {
    Napi::Env env = Env();
    try {
      try {
        deferred_.Resolve(settle_(env, result_));
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      }
    } catch (const Napi::Error&) {
    }
    // Release handles captured by the work on the JS thread, before the worker is deleted.
    work_ = nullptr;
    result_ = Result();
  }

  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(MakeError(Env(), kind_, e.Message()).Value());
    } catch (const Napi::Error&) {
    }
    work_ = nullptr;
    result_ = Result();
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Settle settle_;
  Result result_{};
  ErrorKind kind_ = ErrorKind::GenAI;
};

template <class Result>
Napi::Promise RunAsync(Napi::Env env, const char* name, typename PromiseWorker<Result>::Work work,
                       typename PromiseWorker<Result>::Settle settle) {
  auto* worker = new PromiseWorker<Result>(env, name, std::move(work), std::move(settle));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// For work with no result.
struct Nothing {};
inline Napi::Value Undefined(Napi::Env env, Nothing&) { return env.Undefined(); }

}  // namespace oga
