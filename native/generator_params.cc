// GeneratorParams: search options and guidance for one generation. Names and ranges are validated in
// src/genai/search-options.ts; this layer only refuses values the C library would misbehave on.
#include "addon.h"

namespace oga {
namespace {

// ORT-GenAI 0.15.2 allocates per-beam state up to this bound; beyond it results are undefined.
constexpr double kMaxBatchOrBeams = 32;

class GeneratorParams : public HandleWrap<GeneratorParams, OgaGeneratorParams> {
 public:
  static constexpr const char* kName = "GeneratorParams";
  using HandleWrap::HandleWrap;

  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaModel> model = ModelFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    OgaGeneratorParams* raw = nullptr;
    Check(env, api.OgaCreateGeneratorParams(model.get(), &raw));
    auto handle = std::shared_ptr<OgaGeneratorParams>(raw, [model](OgaGeneratorParams* p) {
      api.OgaDestroyGeneratorParams(p);
    });
    Napi::Object obj = Wrap(env, GetAddonData(env)->generator_params, handle);
    Unwrap(obj)->model_ = model;
    return obj;
  }

  // The model params `v` were made for; see ModelOfParams.
  static std::shared_ptr<OgaModel> ModelOf(Napi::Env env, Napi::Value v) {
    From(env, v, GetAddonData(env)->generator_params);  // an undisposed GeneratorParams, or the usual error
    return Unwrap(v.As<Napi::Object>())->model_;
  }

  Napi::Value SetSearchNumber(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    if (info.Length() < 2 || !info[1].IsNumber()) Throw(env, ErrorKind::Validation, name + " must be a number");
    double value = info[1].As<Napi::Number>().DoubleValue();
    if ((name == "batch_size" || name == "num_beams") && (value < 1 || value > kMaxBatchOrBeams)) {
      Throw(env, ErrorKind::Validation, name + " must be between 1 and 32, got " + std::to_string(value));
    }
    Check(env, api.OgaGeneratorParamsSetSearchNumber(Get(env).get(), name.c_str(), value));
    return env.Undefined();
  }

  Napi::Value SetSearchBool(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    if (info.Length() < 2 || !info[1].IsBoolean()) Throw(env, ErrorKind::Validation, name + " must be a boolean");
    Check(env, api.OgaGeneratorParamsSetSearchBool(Get(env).get(), name.c_str(), info[1].As<Napi::Boolean>()));
    return env.Undefined();
  }

  Napi::Value GetSearchNumber(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    double value = 0;
    Check(env, api.OgaGeneratorParamsGetSearchNumber(Get(env).get(), name.c_str(), &value));
    return Napi::Number::New(env, value);
  }

  Napi::Value GetSearchBool(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    bool value = false;
    Check(env, api.OgaGeneratorParamsGetSearchBool(Get(env).get(), name.c_str(), &value));
    return Napi::Boolean::New(env, value);
  }

  // setGuidance(type, data, enableFfTokens = false)
  Napi::Value SetGuidance(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string type = StringArg(info, 0, "type"), data = StringArg(info, 1, "data");
    bool ff = info.Length() > 2 && info[2].ToBoolean();
    Check(env, api.OgaGeneratorParamsSetGuidance(Get(env).get(), type.c_str(), data.c_str(), ff));
    return env.Undefined();
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         StaticMethod("create", &GeneratorParams::Create),
                                         InstanceMethod("setSearchNumber", &GeneratorParams::SetSearchNumber),
                                         InstanceMethod("setSearchBool", &GeneratorParams::SetSearchBool),
                                         InstanceMethod("getSearchNumber", &GeneratorParams::GetSearchNumber),
                                         InstanceMethod("getSearchBool", &GeneratorParams::GetSearchBool),
                                         InstanceMethod("setGuidance", &GeneratorParams::SetGuidance),
                                         InstanceMethod("dispose", &GeneratorParams::DisposeParams),
                                         InstanceAccessor("disposed", &GeneratorParams::Disposed, nullptr),
                                     });
    data->generator_params = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }

 private:
  // The model these params were made for (Generator.start creates its generator from both); let go on dispose().
  std::shared_ptr<OgaModel> model_;

  Napi::Value DisposeParams(const Napi::CallbackInfo& info) {
    model_.reset();
    return Dispose(info);
  }
};

}  // namespace

void InitGeneratorParams(Napi::Env env, Napi::Object exports, AddonData* data) {
  GeneratorParams::Init(env, exports, data);
}

std::shared_ptr<OgaGeneratorParams> GeneratorParamsFrom(Napi::Env env, Napi::Value v) {
  return GeneratorParams::From(env, v, GetAddonData(env)->generator_params);
}

std::shared_ptr<OgaModel> ModelOfParams(Napi::Env env, Napi::Value v) { return GeneratorParams::ModelOf(env, v); }

}  // namespace oga
