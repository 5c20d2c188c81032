#include "tensor.h"

#include <cstring>

#include "core/errors.h"

namespace oga {
namespace {

struct TypeInfo {
  OgaElementType type;
  const char* name;
  napi_typedarray_type array;
  size_t size;
  // Whether the typed array alone means this type; float16/bfloat16 travel as their bits in a Uint16Array and
  // bool as bytes in a Uint8Array, so those must be named.
  bool implied;
};

constexpr TypeInfo kTypes[] = {
    {OgaElementType_float32, "float32", napi_float32_array, 4, true},
    {OgaElementType_float64, "float64", napi_float64_array, 8, true},
    {OgaElementType_int8, "int8", napi_int8_array, 1, true},
    {OgaElementType_uint8, "uint8", napi_uint8_array, 1, true},
    {OgaElementType_int16, "int16", napi_int16_array, 2, true},
    {OgaElementType_uint16, "uint16", napi_uint16_array, 2, true},
    {OgaElementType_int32, "int32", napi_int32_array, 4, true},
    {OgaElementType_uint32, "uint32", napi_uint32_array, 4, true},
    {OgaElementType_int64, "int64", napi_bigint64_array, 8, true},
    {OgaElementType_uint64, "uint64", napi_biguint64_array, 8, true},
    {OgaElementType_float16, "float16", napi_uint16_array, 2, false},
    {OgaElementType_bfloat16, "bfloat16", napi_uint16_array, 2, false},
    {OgaElementType_bool, "bool", napi_uint8_array, 1, false},
};

const TypeInfo* ByType(OgaElementType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

}  // namespace

TensorPtr OwnTensor(OgaTensor* raw) {
  return TensorPtr(raw, [](OgaTensor* t) { api.OgaDestroyTensor(t); });
}

Napi::Object TensorToJs(Napi::Env env, OgaTensor* tensor) {
  OgaElementType type = OgaElementType_undefined;
  Check(env, api.OgaTensorGetType(tensor, &type));
  const TypeInfo* info = ByType(type);
  if (!info) Throw(env, ErrorKind::GenAI, "tensor element type " + std::to_string(type) + " has no JS typed array");
  size_t rank = 0;
  Check(env, api.OgaTensorGetShapeRank(tensor, &rank));
  std::vector<int64_t> shape(rank);
  Check(env, api.OgaTensorGetShape(tensor, shape.data(), rank));
  size_t count = 1;
  for (int64_t d : shape) count *= static_cast<size_t>(d);
  void* data = nullptr;
  Check(env, api.OgaTensorGetData(tensor, &data));
  auto buffer = Napi::ArrayBuffer::New(env, count * info->size);
  if (count) std::memcpy(buffer.Data(), data, count * info->size);
  Napi::Array js_shape = Napi::Array::New(env, rank);
  for (size_t i = 0; i < rank; i++) js_shape.Set(i, Napi::Number::New(env, static_cast<double>(shape[i])));
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", info->name);
  out.Set("shape", js_shape);
  napi_value array = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, info->array, count, buffer, 0, &array), out);
  out.Set("data", Napi::Value(env, array));
  return out;
}

std::unique_ptr<HostTensor> TensorFromJs(Napi::Env env, Napi::Value value, const char* name) {
  std::string what(name);
  if (!value.IsObject()) Throw(env, ErrorKind::Validation, what + " must be { data: TypedArray, shape: number[] }");
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Value data = obj.Get("data"), shape = obj.Get("shape"), type = obj.Get("type");
  if (!data.IsTypedArray()) Throw(env, ErrorKind::Validation, what + ".data must be a typed array");
  if (!shape.IsArray()) Throw(env, ErrorKind::Validation, what + ".shape must be an array of sizes");
  auto array = data.As<Napi::TypedArray>();
  const TypeInfo* info = nullptr;
  std::string type_name = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
  for (const auto& t : kTypes) {
    bool meant = type_name.empty() ? t.implied && t.array == array.TypedArrayType() : type_name == t.name;
    if (meant && !info) info = &t;
  }
  if (!info) Throw(env, ErrorKind::Validation, what + ": unsupported element type '" + type_name + "'");
  if (info->array != array.TypedArrayType()) {
    Throw(env, ErrorKind::Validation, what + ": " + info->name + " data must come in the matching typed array");
  }
  auto host = std::make_unique<HostTensor>();
  auto dims = shape.As<Napi::Array>();
  size_t count = 1;
  for (uint32_t i = 0; i < dims.Length(); i++) {
    Napi::Value d = dims.Get(i);
    double n = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (n < 0 || n != static_cast<int64_t>(n)) Throw(env, ErrorKind::Validation, what + ".shape must hold sizes >= 0");
    host->shape.push_back(static_cast<int64_t>(n));
    count *= static_cast<size_t>(n);
  }
  if (count != array.ElementLength()) {
    Throw(env, ErrorKind::Validation, what + ": shape holds " + std::to_string(count) + " elements but data has " +
                                          std::to_string(array.ElementLength()));
  }
  host->bytes.resize(count * info->size);
  if (count) std::memcpy(host->bytes.data(), static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset(),
                         host->bytes.size());
  OgaTensor* raw = nullptr;
  Check(env, api.OgaCreateTensorFromBuffer(host->bytes.data(), host->shape.data(), host->shape.size(), info->type, &raw));
  host->tensor = OwnTensor(raw);
  return host;
}

}  // namespace oga
