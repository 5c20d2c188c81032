// Base for the wrapper classes (one per C handle type): lifetime of the handle, instance checks, dispose().
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "errors.h"

namespace oga {

// Base for classes that own one C handle. The handle is a shared_ptr whose deleter captures the handles it
// depends on (a Tokenizer's deleter holds its Model), so destruction order is always right, whichever of
// dispose(), the GC finalizer or an in-flight background call lets go last.
template <class Derived, class Handle>
class HandleWrap : public Napi::ObjectWrap<Derived> {
 public:
  explicit HandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

  // Creates the JS object for a freshly created handle.
  static Napi::Object Wrap(Napi::Env env, Napi::FunctionReference& ctor, std::shared_ptr<Handle> handle) {
    Napi::Object obj = ctor.New({});
    Derived::Unwrap(obj)->handle_ = std::move(handle);
    return obj;
  }

  // The handle behind a JS argument that must be an instance of this class.
  static std::shared_ptr<Handle> From(Napi::Env env, Napi::Value value, Napi::FunctionReference& ctor) {
    if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(ctor.Value())) {
      Throw(env, ErrorKind::Validation, std::string("expected a native ") + Derived::kName);
    }
    return Derived::Unwrap(value.As<Napi::Object>())->Get(env);
  }

  const std::shared_ptr<Handle>& Get(Napi::Env env) const {
    if (!handle_) ThrowDisposed(env, Derived::kName);
    return handle_;
  }

 protected:
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    handle_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !handle_); }

  std::shared_ptr<Handle> handle_;
};

}  // namespace oga
