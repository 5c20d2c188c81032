// Per-environment state: one AddonData per napi_env (main thread and each worker_thread), so nothing JS-side is
// shared between environments.
#pragma once

#include <napi.h>

#include <memory>

#include "executor.h"

namespace oga {

struct AddonData {
  Napi::FunctionReference genai_error, disposed_error, validation_error;
  Napi::FunctionReference config, model, generator_params, generator, tokenizer, tokenizer_stream, adapters, engine,
      engine_request;
  // Runs every blocking call, token loop and Engine step loop of the environment; its Shutdown() at environment
  // teardown is the one place they are stopped and waited for.
  std::shared_ptr<Executor> executor;
};

AddonData* GetAddonData(Napi::Env env);

}  // namespace oga
