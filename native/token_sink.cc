#include "token_sink.h"

#include <algorithm>

namespace oga {

std::shared_ptr<TokenSink> TokenSink::Create(Napi::Env env, Napi::Function on_chunk, const char* name,
                                             std::function<void()> on_abandon) {
  auto sink = std::make_shared<TokenSink>(env);
  sink->on_chunk_ = new Napi::FunctionReference(Napi::Persistent(on_chunk));
  sink->on_abandon_ = std::move(on_abandon);
  // The finalizer runs on the JS thread: drop the JS references there. It owns a reference, so if the environment
  // is torn down mid-run (worker.terminate()) and it runs first, the producer still finds its sink.
  sink->tsfn_ = Napi::ThreadSafeFunction::New(
      env, Napi::Function(), name, 0, 1, new std::shared_ptr<TokenSink>(sink),
      [](Napi::Env, void*, std::shared_ptr<TokenSink>* s) {
        delete (*s)->on_chunk_;
        (*s)->on_chunk_ = nullptr;
        delete s;
      },
      static_cast<void*>(nullptr));
  return sink;
}

// JS thread: hand everything produced so far to onChunk(tokens, text, ends).
void TokenSink::Deliver(Napi::Env env) {
  std::vector<int32_t> tokens, ends, top_ids;
  std::vector<float> logprobs, top_logprobs;
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tokens.swap(tokens_);
    text.swap(text_);
    ends.swap(ends_);
    logprobs.swap(logprobs_);
    top_ids.swap(top_ids_);
    top_logprobs.swap(top_logprobs_);
    utf16_ = 0;
    queued_ = false;
  }
  if (tokens.empty() || !on_chunk_) return;
  try {
    std::vector<napi_value> args{ToInt32Array(env, tokens.data(), tokens.size()), Napi::String::New(env, text),
                                 ToInt32Array(env, ends.data(), ends.size())};
    if (!logprobs.empty()) {
      auto floats = [&](const std::vector<float>& v) {
        auto out = Napi::Float32Array::New(env, v.size());
        std::copy(v.begin(), v.end(), out.Data());
        return out;
      };
      Napi::Object lp = Napi::Object::New(env);
      lp.Set("logprobs", floats(logprobs));
      lp.Set("topIds", ToInt32Array(env, top_ids.data(), top_ids.size()));
      lp.Set("topLogprobs", floats(top_logprobs));
      args.push_back(lp);
    }
    on_chunk_->Call(args);
  } catch (const Napi::Error&) {
    // A throwing consumer stops the producer; the exception itself already reached JS as uncaught.
    on_abandon_();
  }
}

void TokenSink::Produce(const int32_t* tokens, size_t count, const char* text, const Logprobs* logprobs) {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_.insert(tokens_.end(), tokens, tokens + count);
  if (logprobs) {
    logprobs_.push_back(logprobs->logprob);
    top_ids_.insert(top_ids_.end(), logprobs->top_ids, logprobs->top_ids + logprobs->top);
    top_logprobs_.insert(top_logprobs_.end(), logprobs->top_logprobs, logprobs->top_logprobs + logprobs->top);
  }
  if (text) {
    text_ += text;
    for (const char* p = text; *p; p++) {
      unsigned char b = static_cast<unsigned char>(*p);
      if ((b & 0xC0) != 0x80) utf16_ += b >= 0xF0 ? 2 : 1;  // 4-byte UTF-8 = surrogate pair
    }
  }
  for (size_t i = 0; i < count; i++) ends_.push_back(utf16_);
  if (queued_) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_wake_) return;
  // The interval starts with the first text JS can show (ids only: the first ids), so TTFT is never held back.
  if (!text || !text_.empty()) next_wake_ = now + kMinWakeInterval;
  queued_ = true;
  napi_status status = tsfn_.NonBlockingCall(this, [](Napi::Env env, Napi::Function, TokenSink* s) {
    if (env) s->Deliver(env);
  });
  // The environment is shutting down (e.g. worker.terminate()): nobody is listening any more.
  if (status != napi_ok) on_abandon_();
}

void TokenSink::Finish(Outcome outcome, std::string error) {
  outcome_ = outcome;
  error_ = std::move(error);
  // The last call flushes what is left, then settles the promise; Release lets the tsfn finalize afterwards.
  tsfn_.BlockingCall(this, [](Napi::Env env, Napi::Function, TokenSink* s) {
    if (!env) return;
    s->Deliver(env);
    static const char* names[] = {"done", "stopped"};
    try {
      if (s->outcome_ == Outcome::Failed) {
        s->deferred_.Reject(MakeError(env, ErrorKind::GenAI, s->error_).Value());
      } else {
        s->deferred_.Resolve(Napi::String::New(env, names[static_cast<int>(s->outcome_)]));
      }
    } catch (const Napi::Error&) {
      // The environment is shutting down: nobody is waiting for the promise any more.
    }
  });
  tsfn_.Release();
}

}  // namespace oga
