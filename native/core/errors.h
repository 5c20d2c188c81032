// OgaResult -> JS exceptions, and the argument checks that keep the C library from crashing the process.
#pragma once

#include <napi.h>

#include <exception>
#include <string>

#include "runtime.h"

namespace oga {

// Which src/errors.ts class a failure becomes. For Disposed the message is the name of the object ("Engine"):
// DisposedError's constructor makes the sentence.
enum class ErrorKind { GenAI, Disposed, Validation };

// Thrown off the JS thread (where no napi_env may be touched); async.h turns it into a rejection.
struct Failure : std::exception {
  ErrorKind kind;
  std::string message;
  Failure(ErrorKind k, std::string m) : kind(k), message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

// Instance of the registered JS error class for `kind` (see addon.cc `setErrorClasses`).
Napi::Error MakeError(Napi::Env env, ErrorKind kind, const std::string& message);

// Consume an OgaResult: nullptr is success, anything else is thrown as GenAIError. The first form is for the JS
// thread, the second for worker threads.
void Check(Napi::Env env, OgaResult* result);
void Check(OgaResult* result);

[[noreturn]] void Throw(Napi::Env env, ErrorKind kind, const std::string& message);
[[noreturn]] inline void ThrowDisposed(Napi::Env env, const char* what) { Throw(env, ErrorKind::Disposed, what); }

// Strings returned by the C API that the caller must free.
std::string TakeString(const char* s);

}  // namespace oga
