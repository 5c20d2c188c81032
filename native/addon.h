// What every wrapper class file includes: the shared infrastructure (core/) and the registration of each class.
#pragma once

#include <napi.h>

#include <memory>

#include "core/addon_data.h"
#include "core/args.h"
#include "core/errors.h"
#include "core/handle_wrap.h"
#include "core/runtime.h"

namespace oga {

// Throws a JS error unless oga::Load succeeded: no C API pointer may be called before.
void RequireRuntime(Napi::Env env);

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

// Cross-class handle accessors (defined next to each class).
std::shared_ptr<OgaConfig> ConfigFrom(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaModel> ModelFrom(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaGeneratorParams> GeneratorParamsFrom(Napi::Env env, Napi::Value v);
// The model GeneratorParams `v` were created for, even once the model's JS wrapper is disposed.
std::shared_ptr<OgaModel> ModelOfParams(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaTokenizer> TokenizerFrom(Napi::Env env, Napi::Value v);
std::shared_ptr<OgaAdapters> AdaptersFrom(Napi::Env env, Napi::Value v);

}  // namespace oga
