// Model: the ONNX sessions of one model folder. Everything created from it (tokenizers, params, generators,
// adapters) holds its handle, so disposing the JS Model early never frees it under them.
#include "addon.h"
#include "core/async.h"

namespace oga {
namespace {

struct Loaded {
  std::shared_ptr<OgaModel> model;
  std::string type, device_type;
};

class Model : public HandleWrap<Model, OgaModel> {
 public:
  static constexpr const char* kName = "Model";
  using HandleWrap::HandleWrap;

  // load(path: string | Config)
  static Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireRuntime(env);
    std::string path;
    std::shared_ptr<OgaConfig> config;
    if (info.Length() > 0 && info[0].IsString()) {
      path = info[0].As<Napi::String>().Utf8Value();
    } else {
      config = ConfigFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    }
    return RunAsync<Loaded>(
        env,
        [path, config]() {
          OgaModel* raw = nullptr;
          Check(config ? api.OgaCreateModelFromConfig(config.get(), &raw) : api.OgaCreateModel(path.c_str(), &raw));
          Loaded out;
          out.model = std::shared_ptr<OgaModel>(raw, [](OgaModel* m) { api.OgaDestroyModel(m); });
          const char* s = nullptr;
          Check(api.OgaModelGetType(raw, &s));
          out.type = TakeString(s);
          Check(api.OgaModelGetDeviceType(raw, &s));
          out.device_type = TakeString(s);
          return out;
        },
        [](Napi::Env env, Loaded& loaded) -> Napi::Value {
          Napi::Object obj = Wrap(env, GetAddonData(env)->model, loaded.model);
          Model* self = Unwrap(obj);
          self->type_ = loaded.type;
          self->device_type_ = loaded.device_type;
          return obj;
        });
  }

  // Cached at load, but answered only while the model is alive, like every other use.
  Napi::Value Type(const Napi::CallbackInfo& info) {
    Get(info.Env());
    return Napi::String::New(info.Env(), type_);
  }
  Napi::Value DeviceType(const Napi::CallbackInfo& info) {
    Get(info.Env());
    return Napi::String::New(info.Env(), device_type_);
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         StaticMethod("load", &Model::Load),
                                         InstanceAccessor("type", &Model::Type, nullptr),
                                         InstanceAccessor("deviceType", &Model::DeviceType, nullptr),
                                         InstanceMethod("dispose", &Model::Dispose),
                                         InstanceAccessor("disposed", &Model::Disposed, nullptr),
                                     });
    data->model = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }

 private:
  std::string type_, device_type_;
};

}  // namespace

void InitModel(Napi::Env env, Napi::Object exports, AddonData* data) { Model::Init(env, exports, data); }

std::shared_ptr<OgaModel> ModelFrom(Napi::Env env, Napi::Value v) {
  return Model::From(env, v, GetAddonData(env)->model);
}

}  // namespace oga
