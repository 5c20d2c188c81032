// Run a blocking C API call on the environment's Executor and settle a Promise with its result.
// Used for calls that take milliseconds to seconds (model load, prefill, one decode step, batch encode); token
// loops and Engine step loops are Executor jobs too, but report through a TokenSink instead.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "addon_data.h"
#include "errors.h"
#include "executor.h"

namespace oga {

template <class Result>
Napi::Promise RunAsync(Napi::Env env, std::function<Result()> work,
                       std::function<Napi::Value(Napi::Env, Result&)> settle) {
  struct Call {
    explicit Call(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise::Deferred deferred;
    Result result{};
    bool failed = false;
    ErrorKind kind = ErrorKind::GenAI;
    std::string message;
  };
  auto call = std::make_shared<Call>(env);
  Executor::Job job;
  job.work = [call, work = std::move(work)]() {
    try {
      call->result = work();
    } catch (const Failure& f) {
      call->failed = true;
      call->kind = f.kind;
      call->message = f.message;
    } catch (const std::exception& e) {
      call->failed = true;
      call->message = e.what();
    }
  };
  job.complete = [call, settle = std::move(settle)](Napi::Env env) {
    // Settling can itself fail while the environment is shutting down: then nobody is waiting.
    try {
      if (call->failed) {
        call->deferred.Reject(MakeError(env, call->kind, call->message).Value());
        return;
      }
      try {
        call->deferred.Resolve(settle(env, call->result));
      } catch (const Napi::Error& e) {
        call->deferred.Reject(e.Value());
      }
    } catch (const Napi::Error&) {
    }
    // Handles in the result (a Model, a Generator's state) are released here, on the JS thread.
    call->result = Result();
  };
  GetAddonData(env)->executor->Submit(env, std::move(job));
  return call->deferred.Promise();
}

// For work with no result.
struct Nothing {};
inline Napi::Value Undefined(Napi::Env env, Nothing&) { return env.Undefined(); }

}  // namespace oga
