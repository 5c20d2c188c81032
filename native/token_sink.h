// Hands tokens produced on a native thread (the token loop, the Engine's step loop) to a JS callback, and
// settles a Promise when the producer is finished. Tokens reach JS in batches: at most one delivery is queued at a
// time and tokens produced meanwhile join it, so a slow consumer costs one call, not one per token. The first text
// (without a tokenizer: the first ids) is handed over at once; after that the JS thread is woken at most once per
// kMinWakeInterval. Waking a sleeping JS thread is a write to libuv's eventfd that interrupts another CPU: ~15 µs in
// the producer on the 2-vCPU VM we measure on, and 5-7% of decode speed when done for every token (bench/README.md,
// "Where our decode overhead went"). Held tokens leave with the first token produced once the interval has passed,
// or with Finish, so a token waits at most the interval plus one step.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "addon.h"

namespace oga {

class TokenSink {
 public:
  enum class Outcome { Done, Stopped, Failed };

  // JS thread. `on_chunk(tokens: Int32Array, text: string, ends: Int32Array)` receives each batch; `ends[i]` is
  // where token i's text ends in `text`, in UTF-16 code units. `on_abandon` runs when the consumer throws (JS
  // thread) or the environment is going away (producer thread): the producer should stop.
  static std::shared_ptr<TokenSink> Create(Napi::Env env, Napi::Function on_chunk, const char* name,
                                           std::function<void()> on_abandon);

  // Resolves with 'done' or 'stopped', or rejects with a GenAIError, after the last chunk was delivered.
  Napi::Promise Promise() const { return deferred_.Promise(); }

  // Log-probabilities of one token (from the logits it was chosen from) and its `top` most likely alternatives.
  struct Logprobs {
    float logprob;
    const int32_t* top_ids;
    const float* top_logprobs;
    size_t top;
  };

  // Producer thread. `text` (may be null) is the decoded text of the tokens. `logprobs` (one token only) makes
  // the delivery pass a fourth argument, `{logprobs: Float32Array, topIds: Int32Array, topLogprobs: Float32Array}`
  // (`top` entries per token, most likely first).
  void Produce(const int32_t* tokens, size_t count, const char* text, const Logprobs* logprobs = nullptr);
  // Producer thread, once: flushes what is left, then settles the promise.
  void Finish(Outcome outcome, std::string error = "");

  explicit TokenSink(Napi::Env env) : deferred_(Napi::Promise::Deferred::New(env)) {}

 private:
  void Deliver(Napi::Env env);

  Napi::Promise::Deferred deferred_;
  Napi::ThreadSafeFunction tsfn_;
  // Owned by the JS thread: freed in the tsfn finalizer, or leaked with a dead environment, never deleted on the
  // producer thread (napi_delete_reference off the JS thread is undefined behaviour).
  Napi::FunctionReference* on_chunk_ = nullptr;
  std::function<void()> on_abandon_;

  std::mutex mu_;
  std::vector<int32_t> tokens_;
  std::string text_;
  std::vector<int32_t> ends_;
  std::vector<float> logprobs_;
  std::vector<int32_t> top_ids_;
  std::vector<float> top_logprobs_;
  int32_t utf16_ = 0;
  bool queued_ = false;
  static constexpr std::chrono::milliseconds kMinWakeInterval{16};
  std::chrono::steady_clock::time_point next_wake_{};  // epoch: the first token wakes JS at once

  Outcome outcome_ = Outcome::Done;
  std::string error_;
};

}  // namespace oga
