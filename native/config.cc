// Config: a model folder's genai_config.json, editable (providers, provider options, JSON overlay) before a
// Model is created from it.
#include "addon.h"
#include "core/async.h"

namespace oga {
namespace {

class Config : public HandleWrap<Config, OgaConfig> {
 public:
  static constexpr const char* kName = "Config";
  using HandleWrap::HandleWrap;

  static Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireRuntime(env);
    std::string dir = StringArg(info, 0, "path");
    using Handle = std::shared_ptr<OgaConfig>;
    return RunAsync<Handle>(
        env,
        [dir]() {
          OgaConfig* config = nullptr;
          Check(api.OgaCreateConfig(dir.c_str(), &config));
          return Handle(config, [](OgaConfig* c) { api.OgaDestroyConfig(c); });
        },
        [](Napi::Env env, Handle& h) -> Napi::Value { return Wrap(env, GetAddonData(env)->config, h); });
  }

  Napi::Value ClearProviders(const Napi::CallbackInfo& info) {
    Check(info.Env(), api.OgaConfigClearProviders(Get(info.Env()).get()));
    return info.Env().Undefined();
  }

  Napi::Value AppendProvider(const Napi::CallbackInfo& info) {
    std::string provider = StringArg(info, 0, "provider");
    Check(info.Env(), api.OgaConfigAppendProvider(Get(info.Env()).get(), provider.c_str()));
    return info.Env().Undefined();
  }

  Napi::Value SetProviderOption(const Napi::CallbackInfo& info) {
    std::string provider = StringArg(info, 0, "provider"), key = StringArg(info, 1, "key"),
                value = StringArg(info, 2, "value");
    Check(info.Env(), api.OgaConfigSetProviderOption(Get(info.Env()).get(), provider.c_str(), key.c_str(), value.c_str()));
    return info.Env().Undefined();
  }

  Napi::Value Overlay(const Napi::CallbackInfo& info) {
    std::string json = StringArg(info, 0, "json");
    Check(info.Env(), api.OgaConfigOverlay(Get(info.Env()).get(), json.c_str()));
    return info.Env().Undefined();
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         StaticMethod("load", &Config::Load),
                                         InstanceMethod("clearProviders", &Config::ClearProviders),
                                         InstanceMethod("appendProvider", &Config::AppendProvider),
                                         InstanceMethod("setProviderOption", &Config::SetProviderOption),
                                         InstanceMethod("overlay", &Config::Overlay),
                                         InstanceMethod("dispose", &Config::Dispose),
                                         InstanceAccessor("disposed", &Config::Disposed, nullptr),
                                     });
    data->config = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }
};

}  // namespace

void InitConfig(Napi::Env env, Napi::Object exports, AddonData* data) { Config::Init(env, exports, data); }

std::shared_ptr<OgaConfig> ConfigFrom(Napi::Env env, Napi::Value v) {
  return Config::From(env, v, GetAddonData(env)->config);
}

}  // namespace oga
