// OgaTensor <-> JS { type, shape, data }: what getLogits, getOutput and setModelInput exchange.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime.h"

namespace oga {

using TensorPtr = std::unique_ptr<OgaTensor, void (*)(OgaTensor*)>;
TensorPtr OwnTensor(OgaTensor* raw);

// A copy of a CPU tensor as { type: string, shape: number[], data: <typed array of the element type> }.
Napi::Object TensorToJs(Napi::Env env, OgaTensor* tensor);

// A JS tensor's bytes copied into memory we own, and an OgaTensor viewing them (which must not outlive `bytes`).
struct HostTensor {
  std::vector<uint8_t> bytes;
  std::vector<int64_t> shape;
  TensorPtr tensor{nullptr, nullptr};
};
// `value` is { data: TypedArray, shape: number[], type?: 'float16' | 'bfloat16' | 'bool' } (type only where the
// typed array alone does not say it); ValidationError when it does not describe a tensor.
std::unique_ptr<HostTensor> TensorFromJs(Napi::Env env, Napi::Value value, const char* name);

}  // namespace oga
