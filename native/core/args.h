// JS argument -> C++ value conversions shared by the wrapper classes. Each throws ValidationError naming the argument.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace oga {

// A string without NUL characters (the C API would cut it at the first one).
std::string StringValue(Napi::Env env, Napi::Value value, const std::string& name);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A number that is exactly a 32-bit integer (NaN, 1.5 and 2**31 are refused, not truncated).
int32_t TokenArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// Int32Array (zero-copy view) or array of numbers, copied into a vector the caller owns.
std::vector<int32_t> Tokens(Napi::Env env, Napi::Value value, const char* name);
Napi::Int32Array ToInt32Array(Napi::Env env, const int32_t* data, size_t count);

}  // namespace oga
