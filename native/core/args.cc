#include "args.h"

#include <cstring>

#include "errors.h"

namespace oga {

std::string StringValue(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsString()) Throw(env, ErrorKind::Validation, name + " must be a string");
  std::string s = value.As<Napi::String>().Utf8Value();
  // The C API takes NUL-terminated strings: anything after a NUL would be dropped without a word.
  if (s.find('\0') != std::string::npos) {
    Throw(env, ErrorKind::Validation, name + " must not contain NUL characters (U+0000)");
  }
  return s;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return StringValue(info.Env(), info.Length() > i ? info[i] : info.Env().Undefined(), name);
}

std::vector<int32_t> Tokens(Napi::Env env, Napi::Value value, const char* name) {
  if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    auto arr = value.As<Napi::Int32Array>();
    return std::vector<int32_t>(arr.Data(), arr.Data() + arr.ElementLength());
  }
  if (!value.IsArray()) {
    Throw(env, ErrorKind::Validation, std::string(name) + " must be an Int32Array or an array of integers");
  }
  auto arr = value.As<Napi::Array>();
  std::vector<int32_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
    if (d != static_cast<int32_t>(d)) {
      Throw(env, ErrorKind::Validation, std::string(name) + " must contain only 32-bit integers");
    }
    out[k] = static_cast<int32_t>(d);
  }
  return out;
}

int32_t TokenArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d = info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : 0.5;
  if (d != static_cast<int32_t>(d)) Throw(info.Env(), ErrorKind::Validation, std::string(name) + " must be a 32-bit integer");
  return static_cast<int32_t>(d);
}

Napi::Int32Array ToInt32Array(Napi::Env env, const int32_t* data, size_t count) {
  auto arr = Napi::Int32Array::New(env, count);
  if (count) std::memcpy(arr.Data(), data, count * sizeof(int32_t));
  return arr;
}

}  // namespace oga
