// The generate/stream hot path: prefill and the whole decode loop run as one Executor job (one worker thread for
// the whole generation), decoding text as it goes. New tokens reach JS in batches through a TokenSink.
#include <algorithm>
#include <string>

#include "generator.h"
#include "token_sink.h"

namespace oga {
namespace {

struct Loop {
  std::shared_ptr<GeneratorState> state;
  std::shared_ptr<OgaTokenizer> tokenizer;  // null: deliver ids only (batched or beam generations)
  std::vector<int32_t> prompt;
  std::shared_ptr<LoopRegistry> registry;
  std::shared_ptr<TokenSink> sink;
  TokenSink::Outcome outcome = TokenSink::Outcome::Done;
  std::string error;
};

void RunLoop(Loop& loop) {
  GeneratorState& s = *loop.state;
  OgaGenerator* gen = s.gen.get();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    OgaTokenizerStream* stream_raw = nullptr;
    std::unique_ptr<OgaTokenizerStream, void (*)(OgaTokenizerStream*)> stream(
        nullptr, [](OgaTokenizerStream* p) { api.OgaDestroyTokenizerStream(p); });
    try {
      if (loop.tokenizer) {
        Check(api.OgaCreateTokenizerStream(loop.tokenizer.get(), &stream_raw));
        stream.reset(stream_raw);
      }
      if (!loop.prompt.empty() && !s.stop) {
        Check(api.OgaGenerator_AppendTokens(gen, loop.prompt.data(), loop.prompt.size()));
      }
      while (!s.stop && !api.OgaGenerator_IsDone(gen)) {
        Check(api.OgaGenerator_GenerateNextToken(gen));
        const int32_t* next = nullptr;
        size_t count = 0;
        Check(api.OgaGenerator_GetNextTokens(gen, &next, &count));
        const char* text = nullptr;
        if (stream && count == 1) Check(api.OgaTokenizerStreamDecode(stream.get(), next[0], &text));
        loop.sink->Produce(next, count, text);
      }
      if (s.stop) loop.outcome = TokenSink::Outcome::Stopped;
    } catch (const Failure& f) {
      // A terminate_session request makes the interrupted call fail: that is a stop, not an error.
      loop.outcome = s.stop ? TokenSink::Outcome::Stopped : TokenSink::Outcome::Failed;
      if (!s.stop) loop.error = f.message;
    } catch (const std::exception& e) {  // e.g. std::bad_alloc
      loop.outcome = TokenSink::Outcome::Failed;
      loop.error = e.what();
    }
  }
  std::lock_guard<std::mutex> lock(s.run_mu);
  s.running = false;
}

// After the worker is idle again, so the next generation JS starts on the result reuses it.
void FinishLoop(Loop& loop) {
  {
    LoopRegistry& reg = *loop.registry;
    std::lock_guard<std::mutex> lock(reg.mu);
    auto& list = reg.running;
    list.erase(std::find(list.begin(), list.end(), loop.state));
    reg.idle.notify_all();
  }
  // Let go of the generator before JS hears of the end: disposing it then frees it (and releases its adapter).
  loop.state.reset();
  loop.tokenizer.reset();
  loop.sink->Finish(loop.outcome, std::move(loop.error));
}

}  // namespace

// run(prompt: Int32Array | number[] | null, tokenizer: Tokenizer | null, onChunk: (tokens, text, ends) => void)
//   : Promise<'done' | 'stopped'>
Napi::Value StartTokenLoop(const Napi::CallbackInfo& info, std::shared_ptr<GeneratorState> state) {
  Napi::Env env = info.Env();
  auto loop = std::make_shared<Loop>();
  loop->state = state;
  if (info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) loop->prompt = Tokens(env, info[0], "prompt");
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) loop->tokenizer = TokenizerFrom(env, info[1]);
  if (info.Length() < 3 || !info[2].IsFunction()) Throw(env, ErrorKind::Validation, "onChunk must be a function");
  loop->registry = GetAddonData(env)->loops;
  {
    std::lock_guard<std::mutex> lock(state->run_mu);
    if (state->running) Throw(env, ErrorKind::GenAI, "Generator is already running generate/stream");
    std::unique_lock<std::mutex> busy(state->mu, std::try_to_lock);
    if (!busy.owns_lock()) Throw(env, ErrorKind::GenAI, "Generator is busy; await the pending call before run()");
    state->running = true;
    state->stop = false;
  }
  loop->sink = TokenSink::Create(env, info[2].As<Napi::Function>(), "ortgenai.Generator.run",
                                 [weak = std::weak_ptr<GeneratorState>(state)]() {
                                   if (auto s = weak.lock()) s->stop = true;
                                 });
  Napi::Promise promise = loop->sink->Promise();
  {
    std::lock_guard<std::mutex> lock(loop->registry->mu);
    loop->registry->running.push_back(state);
  }
  Executor::Job job;
  job.work = [loop]() { RunLoop(*loop); };
  job.then = [loop]() { FinishLoop(*loop); };
  try {
    GetAddonData(env)->executor->Submit(env, std::move(job));
  } catch (const Napi::Error& e) {
    // No thread to run it on: the run fails like any other, and the generator stays usable.
    {
      std::lock_guard<std::mutex> lock(state->run_mu);
      state->running = false;
    }
    loop->outcome = TokenSink::Outcome::Failed;
    loop->error = e.Message();
    FinishLoop(*loop);
  }
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
