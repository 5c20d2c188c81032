#include "errors.h"

#include "addon_data.h"

namespace oga {

Napi::Error MakeError(Napi::Env env, ErrorKind kind, const std::string& message) {
  AddonData* data = GetAddonData(env);
  Napi::FunctionReference* cls = nullptr;
  if (data) {
    switch (kind) {
      case ErrorKind::GenAI: cls = &data->genai_error; break;
      case ErrorKind::Disposed: cls = &data->disposed_error; break;
      case ErrorKind::Validation: cls = &data->validation_error; break;
    }
  }
  if (cls && !cls->IsEmpty()) return Napi::Error(env, cls->New({Napi::String::New(env, message)}));
  // Error classes not registered yet (raw use of the addon): the same sentence as DisposedError's, and the code, so
  // callers can still tell them apart.
  Napi::Error err =
      Napi::Error::New(env, kind == ErrorKind::Disposed ? message + " has been disposed and can no longer be used" : message);
  static const char* codes[] = {"GENAI_ERROR", "DISPOSED", "VALIDATION_ERROR"};
  err.Value().Set("code", codes[static_cast<int>(kind)]);
  return err;
}

static std::string ResultMessage(OgaResult* result) {
  std::string msg = api.OgaResultGetError(result);
  api.OgaDestroyResult(result);
  return msg;
}

void Check(Napi::Env env, OgaResult* result) {
  if (result) throw MakeError(env, ErrorKind::GenAI, ResultMessage(result));
}

void Check(OgaResult* result) {
  if (result) throw Failure(ErrorKind::GenAI, ResultMessage(result));
}

void Throw(Napi::Env env, ErrorKind kind, const std::string& message) { throw MakeError(env, kind, message); }

std::string TakeString(const char* s) {
  std::string out = s ? s : "";
  if (s) api.OgaDestroyString(s);
  return out;
}

}  // namespace oga
