// Adapters: LoRA adapters loaded next to a model and activated per Generator.
#include "addon.h"
#include "core/async.h"

namespace oga {
namespace {

class Adapters : public HandleWrap<Adapters, OgaAdapters> {
 public:
  static constexpr const char* kName = "Adapters";
  using HandleWrap::HandleWrap;

  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaModel> model = ModelFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    OgaAdapters* raw = nullptr;
    Check(env, api.OgaCreateAdapters(model.get(), &raw));
    auto handle = std::shared_ptr<OgaAdapters>(raw, [model](OgaAdapters* a) { api.OgaDestroyAdapters(a); });
    return Wrap(env, GetAddonData(env)->adapters, handle);
  }

  // loadAdapter(file, name): Promise<void> (reads the adapter file)
  Napi::Value LoadAdapter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string file = StringArg(info, 0, "file"), name = StringArg(info, 1, "name");
    std::shared_ptr<OgaAdapters> self = Get(env);
    return RunAsync<Nothing>(
        env,
        [self, file, name]() {
          Check(api.OgaLoadAdapter(self.get(), file.c_str(), name.c_str()));
          return Nothing{};
        },
        Undefined);
  }

  Napi::Value UnloadAdapter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    Check(env, api.OgaUnloadAdapter(Get(env).get(), name.c_str()));
    return env.Undefined();
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         StaticMethod("create", &Adapters::Create),
                                         InstanceMethod("loadAdapter", &Adapters::LoadAdapter),
                                         InstanceMethod("unloadAdapter", &Adapters::UnloadAdapter),
                                         InstanceMethod("dispose", &Adapters::Dispose),
                                         InstanceAccessor("disposed", &Adapters::Disposed, nullptr),
                                     });
    data->adapters = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }
};

}  // namespace

void InitAdapters(Napi::Env env, Napi::Object exports, AddonData* data) { Adapters::Init(env, exports, data); }

std::shared_ptr<OgaAdapters> AdaptersFrom(Napi::Env env, Napi::Value v) {
  return Adapters::From(env, v, GetAddonData(env)->adapters);
}

}  // namespace oga
