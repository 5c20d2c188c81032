// The generate/stream hot path: prefill and the whole decode loop run on one dedicated thread (not libuv's pool,
// which has only four threads), decoding text as it goes. New tokens reach JS in batches: at most one delivery
// is queued at a time and tokens produced meanwhile join it, so a slow consumer costs one call, not one per token.
#include <algorithm>
#include <string>
#include <thread>

#include "generator.h"

namespace oga {
namespace {

enum class Outcome { Done, Stopped, Failed };

struct Loop {
  std::shared_ptr<GeneratorState> state;
  std::shared_ptr<OgaTokenizer> tokenizer;  // null: deliver ids only (batched or beam generations)
  std::vector<int32_t> prompt;
  std::shared_ptr<LoopRegistry> registry;
  Napi::ThreadSafeFunction tsfn;
  Napi::Promise::Deferred deferred;
  // Owned by the JS thread: freed in the tsfn finalizer, or leaked with a dead environment, never deleted here
  // (napi_delete_reference off the JS thread is undefined behaviour).
  Napi::FunctionReference* on_chunk = nullptr;

  // Produced but not yet delivered; guarded by `pending_mu`.
  std::mutex pending_mu;
  std::vector<int32_t> pending_tokens;
  std::string pending_text;
  // Per token, where its text ends in pending_text, in UTF-16 code units (JS string indices), so JS can cut the
  // text at a token boundary (stop strings) without a call per token.
  std::vector<int32_t> pending_ends;
  int32_t pending_utf16 = 0;
  bool delivery_queued = false;

  Outcome outcome = Outcome::Done;
  std::string error;

  Loop(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

// JS thread: hand everything produced so far to onChunk(tokens, text).
void Deliver(Napi::Env env, Loop* loop) {
  std::vector<int32_t> tokens, ends;
  std::string text;
  {
    std::lock_guard<std::mutex> lock(loop->pending_mu);
    tokens.swap(loop->pending_tokens);
    text.swap(loop->pending_text);
    ends.swap(loop->pending_ends);
    loop->pending_utf16 = 0;
    loop->delivery_queued = false;
  }
  if (tokens.empty() || !loop->on_chunk) return;
  try {
    loop->on_chunk->Call({ToInt32Array(env, tokens.data(), tokens.size()), Napi::String::New(env, text),
                         ToInt32Array(env, ends.data(), ends.size())});
  } catch (const Napi::Error&) {
    // A throwing consumer stops the generation; the exception itself already reached JS as uncaught.
    loop->state->stop = true;
  }
}

// Loop thread: queue a delivery unless one is already waiting.
void Produce(Loop* loop, const int32_t* tokens, size_t count, const char* text) {
  std::lock_guard<std::mutex> lock(loop->pending_mu);
  loop->pending_tokens.insert(loop->pending_tokens.end(), tokens, tokens + count);
  if (text) {
    loop->pending_text += text;
    for (const char* p = text; *p; p++) {
      unsigned char b = static_cast<unsigned char>(*p);
      if ((b & 0xC0) != 0x80) loop->pending_utf16 += b >= 0xF0 ? 2 : 1;  // 4-byte UTF-8 = surrogate pair
    }
  }
  for (size_t i = 0; i < count; i++) loop->pending_ends.push_back(loop->pending_utf16);
  if (loop->delivery_queued) return;
  loop->delivery_queued = true;
  napi_status status = loop->tsfn.NonBlockingCall(loop, [](Napi::Env env, Napi::Function, Loop* l) {
    if (env) Deliver(env, l);
  });
  // The environment is shutting down (e.g. worker.terminate()): nobody is listening any more.
  if (status != napi_ok) loop->state->stop = true;
}

void RunLoop(std::shared_ptr<Loop> owner) {
  Loop* loop = owner.get();
  GeneratorState& s = *loop->state;
  OgaGenerator* gen = s.gen.get();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.logits_count = 0;
    OgaTokenizerStream* stream_raw = nullptr;
    std::unique_ptr<OgaTokenizerStream, void (*)(OgaTokenizerStream*)> stream(
        nullptr, [](OgaTokenizerStream* p) { api.OgaDestroyTokenizerStream(p); });
    try {
      if (loop->tokenizer) {
        Check(api.OgaCreateTokenizerStream(loop->tokenizer.get(), &stream_raw));
        stream.reset(stream_raw);
      }
      if (!loop->prompt.empty() && !s.stop) {
        Check(api.OgaGenerator_AppendTokens(gen, loop->prompt.data(), loop->prompt.size()));
      }
      while (!s.stop && !api.OgaGenerator_IsDone(gen)) {
        Check(api.OgaGenerator_GenerateNextToken(gen));
        const int32_t* next = nullptr;
        size_t count = 0;
        Check(api.OgaGenerator_GetNextTokens(gen, &next, &count));
        const char* text = nullptr;
        if (stream && count == 1) Check(api.OgaTokenizerStreamDecode(stream.get(), next[0], &text));
        Produce(loop, next, count, text);
      }
      loop->outcome = s.stop ? Outcome::Stopped : Outcome::Done;
    } catch (const Failure& f) {
      // A terminate_session request makes the interrupted call fail: that is a stop, not an error.
      if (s.stop) {
        loop->outcome = Outcome::Stopped;
      } else {
        loop->outcome = Outcome::Failed;
        loop->error = f.message;
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(s.run_mu);
    s.running = false;
  }
  // The last call flushes what is left, then settles the promise; Release lets the tsfn finalize afterwards.
  loop->tsfn.BlockingCall(loop, [](Napi::Env env, Napi::Function, Loop* l) {
    if (!env) return;
    Deliver(env, l);
    static const char* names[] = {"done", "stopped"};
    try {
      if (l->outcome == Outcome::Failed) {
        l->deferred.Reject(MakeError(env, ErrorKind::GenAI, l->error).Value());
      } else {
        l->deferred.Resolve(Napi::String::New(env, names[static_cast<int>(l->outcome)]));
      }
    } catch (const Napi::Error&) {
      // The environment is shutting down: nobody is waiting for the promise any more.
    }
  });
  loop->tsfn.Release();
  LoopRegistry& reg = *loop->registry;
  std::lock_guard<std::mutex> lock(reg.mu);
  auto& list = reg.running;
  list.erase(std::find(list.begin(), list.end(), loop->state));
  reg.idle.notify_all();
}

}  // namespace

// run(prompt: Int32Array | number[] | null, tokenizer: Tokenizer | null, onChunk: (tokens, text, ends) => void)
//   : Promise<'done' | 'stopped'>
Napi::Value StartTokenLoop(const Napi::CallbackInfo& info, std::shared_ptr<GeneratorState> state) {
  Napi::Env env = info.Env();
  // Shared by the loop thread and the tsfn finalizer: if the environment is torn down mid-run (worker.terminate())
  // the finalizer may run first, and the thread must still find its Loop.
  auto owner = std::make_shared<Loop>(env);
  Loop* loop = owner.get();
  loop->state = state;
  if (info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) loop->prompt = Tokens(env, info[0], "prompt");
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) loop->tokenizer = TokenizerFrom(env, info[1]);
  if (info.Length() < 3 || !info[2].IsFunction()) throw Napi::TypeError::New(env, "onChunk must be a function");
  loop->on_chunk = new Napi::FunctionReference(Napi::Persistent(info[2].As<Napi::Function>()));
  loop->registry = GetAddonData(env)->loops;
  {
    std::lock_guard<std::mutex> lock(state->run_mu);
    if (state->running) Throw(env, ErrorKind::GenAI, "Generator is already running generate/stream");
    std::unique_lock<std::mutex> busy(state->mu, std::try_to_lock);
    if (!busy.owns_lock()) Throw(env, ErrorKind::GenAI, "Generator is busy; await the pending call before run()");
    state->running = true;
    state->stop = false;
  }
  Napi::Promise promise = loop->deferred.Promise();
  // The finalizer runs on the JS thread: drop the JS references there, never on the loop thread.
  loop->tsfn = Napi::ThreadSafeFunction::New(
      env, Napi::Function(), "ortgenai.Generator.run", 0, 1, new std::shared_ptr<Loop>(owner),
      [](Napi::Env, void*, std::shared_ptr<Loop>* l) {
        delete (*l)->on_chunk;
        (*l)->on_chunk = nullptr;
        delete l;
      },
      static_cast<void*>(nullptr));
  {
    std::lock_guard<std::mutex> lock(loop->registry->mu);
    loop->registry->running.push_back(state);
  }
  std::thread(RunLoop, std::move(owner)).detach();
  return promise;
}

void StopTokenLoop(GeneratorState& state) {
  std::lock_guard<std::mutex> lock(state.run_mu);
  if (!state.running || state.stop) return;
  state.stop = true;
  // Interrupts a long prefill or step inside ONNX Runtime instead of waiting for it to finish.
  OgaResult* r = api.OgaGenerator_SetRuntimeOption(state.gen.get(), "terminate_session", "1");
  if (r) api.OgaDestroyResult(r);
}

void StopAllLoops(LoopRegistry& loops) {
  std::unique_lock<std::mutex> lock(loops.mu);
  for (auto& state : loops.running) StopTokenLoop(*state);
  loops.idle.wait(lock, [&] { return loops.running.empty(); });
}

}  // namespace oga
