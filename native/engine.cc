#include "addon.h"
namespace oga {
void InitEngine(Napi::Env, Napi::Object, AddonData*) {}
}  // namespace oga
