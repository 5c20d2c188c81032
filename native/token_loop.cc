// The generate/stream hot path: prefill and the whole decode loop run as one Executor job (one worker thread for
// the whole generation), decoding text as it goes. New tokens reach JS in batches through a TokenSink.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "generator.h"
#include "token_sink.h"

namespace oga {
namespace {

struct Loop {
  std::shared_ptr<GeneratorState> state;
  std::shared_ptr<OgaTokenizer> tokenizer;  // null: deliver ids only (batched or beam generations)
  std::vector<int32_t> prompt;
  std::shared_ptr<TokenSink> sink;
  TokenSink::Outcome outcome = TokenSink::Outcome::Done;
  std::string error;
  int top_logprobs = -1;  // >= 0: log-probabilities of each token and of its top_logprobs alternatives
  size_t max_steps = SIZE_MAX;  // decode steps (new tokens per sequence) at most, ended between two steps
};

// exp(x) for x <= 0 in float, without a libm call so that the loop over the vocabulary vectorizes: 2^n by
// the exponent bits times a degree-6 polynomial of the remainder (relative error < 2e-7).
inline float ExpNonPositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  // Round to nearest for t <= 0 by truncating t - 0.5 (a conversion, unlike nearbyint, vectorizes).
  const float n = static_cast<float>(static_cast<int32_t>(x * 1.44269504f - 0.5f));
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// The log-softmax of one step's logits, read before the token is chosen (sampling and guidance change the
// logits in place): the model's own distribution, as OpenAI's logprobs report it. Three passes over the
// vocabulary (max, sum of exponentials, the top alternatives), no sort, no allocation after the first step.
class StepLogprobs {
 public:
  explicit StepLogprobs(size_t top) : top_(top) {}

  void Read(OgaGenerator* gen) {
    OgaTensor* raw = nullptr;
    Check(api.OgaGenerator_GetLogits(gen, &raw));
    std::unique_ptr<OgaTensor, void (*)(OgaTensor*)> tensor(raw, [](OgaTensor* t) { api.OgaDestroyTensor(t); });
    size_t rank = 0;
    Check(api.OgaTensorGetShapeRank(raw, &rank));
    std::vector<int64_t> shape(rank);
    Check(api.OgaTensorGetShape(raw, shape.data(), rank));
    size_t count = 1;
    for (int64_t d : shape) count *= static_cast<size_t>(d);
    void* data = nullptr;
    Check(api.OgaTensorGetData(raw, &data));
    logits_.assign(static_cast<const float*>(data), static_cast<const float*>(data) + count);
    const float* v = logits_.data();
    // Eight independent lanes: float reductions only vectorize when their order is spelled out.
    constexpr size_t kLanes = 8;
    float lane[kLanes];
    std::fill(lane, lane + kLanes, -INFINITY);
    size_t body = count - count % kLanes;
    for (size_t i = 0; i < body; i += kLanes)
      for (size_t j = 0; j < kLanes; j++) lane[j] = v[i + j] > lane[j] ? v[i + j] : lane[j];
    float max = *std::max_element(lane, lane + kLanes);
    for (size_t i = body; i < count; i++) max = std::max(max, v[i]);
    std::fill(lane, lane + kLanes, 0.0f);
    for (size_t i = 0; i < body; i += kLanes)
      for (size_t j = 0; j < kLanes; j++) lane[j] += ExpNonPositive(v[i + j] - max);
    float sum = 0;
    for (size_t j = 0; j < kLanes; j++) sum += lane[j];
    for (size_t i = body; i < count; i++) sum += ExpNonPositive(v[i] - max);
    log_z_ = max + std::log(sum);
    // The top alternatives, most likely first (ties: lower id first), by insertion into a short sorted list.
    ids_.clear();
    size_t top = std::min(top_, count);
    for (size_t i = 0; i < count && top > 0; i++) {
      if (ids_.size() == top && v[i] <= v[ids_.back()]) continue;
      if (ids_.size() == top) ids_.pop_back();
      auto at = std::find_if(ids_.begin(), ids_.end(), [&](int32_t id) { return v[i] > v[id]; });
      ids_.insert(at, static_cast<int32_t>(i));
    }
    top_values_.resize(ids_.size());
    for (size_t i = 0; i < ids_.size(); i++) top_values_[i] = Of(ids_[i]);
  }

  float Of(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < logits_.size() ? logits_[id] - log_z_ : -INFINITY;
  }

  TokenSink::Logprobs For(int32_t id) const { return {Of(id), ids_.data(), top_values_.data(), ids_.size()}; }

 private:
  size_t top_;
  std::vector<float> logits_;
  float log_z_ = 0;
  std::vector<int32_t> ids_;
  std::vector<float> top_values_;
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
      std::unique_ptr<StepLogprobs> logprobs;
      if (loop.top_logprobs >= 0) logprobs = std::make_unique<StepLogprobs>(static_cast<size_t>(loop.top_logprobs));
      for (size_t step = 0; step < loop.max_steps && !s.stop && !api.OgaGenerator_IsDone(gen); step++) {
        // The logits are computed here instead of inside GenerateNextToken, not twice.
        if (logprobs) logprobs->Read(gen);
        Check(api.OgaGenerator_GenerateNextToken(gen));
        const int32_t* next = nullptr;
        size_t count = 0;
        Check(api.OgaGenerator_GetNextTokens(gen, &next, &count));
        const char* text = nullptr;
        if (stream && count == 1) Check(api.OgaTokenizerStreamDecode(stream.get(), next[0], &text));
        if (logprobs && count == 1) {
          TokenSink::Logprobs lp = logprobs->For(next[0]);
          loop.sink->Produce(next, count, text, &lp);
        } else {
          loop.sink->Produce(next, count, text);
        }
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
  // Let go of the generator before JS hears of the end: disposing it then frees it (and releases its adapter).
  loop.state.reset();
  loop.tokenizer.reset();
  loop.sink->Finish(loop.outcome, std::move(loop.error));
}

}  // namespace

// run(prompt: Int32Array | number[] | null, tokenizer: Tokenizer | null, onChunk: (tokens, text, ends, logprobs?) => void,
//     topLogprobs?: number | null, maxNewTokens?: number | null): Promise<'done' | 'stopped'>; these arguments start
// at info[first_arg] (Generator.start passes the params first).
// With topLogprobs (0-20) every delivery of single-sequence tokens carries their log-probabilities (TokenSink).
// With maxNewTokens the loop ends after that many steps, like at max_length: between two steps, never inside one
// (a stop() may interrupt a step, which leaves a non-shared KV cache unusable for a rewind).
Napi::Value StartTokenLoop(const Napi::CallbackInfo& info, size_t first_arg, std::shared_ptr<GeneratorState> state,
                           std::function<void(GeneratorState&)> create) {
  Napi::Env env = info.Env();
  auto arg = [&](size_t i) { return info.Length() > first_arg + i ? info[first_arg + i] : env.Undefined(); };
  auto given = [&](size_t i) { return !arg(i).IsNull() && !arg(i).IsUndefined(); };
  auto loop = std::make_shared<Loop>();
  loop->state = state;
  if (given(0)) loop->prompt = Tokens(env, arg(0), "prompt");
  if (given(1)) loop->tokenizer = TokenizerFrom(env, arg(1));
  if (!arg(2).IsFunction()) Throw(env, ErrorKind::Validation, "onChunk must be a function");
  if (given(3)) {
    double top = arg(3).IsNumber() ? arg(3).As<Napi::Number>().DoubleValue() : -1;
    if (!(top >= 0 && top <= 20 && top == std::floor(top))) Throw(env, ErrorKind::Validation, "topLogprobs must be an integer from 0 to 20");
    loop->top_logprobs = static_cast<int>(top);
  }
  if (given(4)) {
    double max = arg(4).IsNumber() ? arg(4).As<Napi::Number>().DoubleValue() : -1;
    if (!(max >= 1 && max == std::floor(max))) Throw(env, ErrorKind::Validation, "maxNewTokens must be a positive integer");
    loop->max_steps = static_cast<size_t>(max);
  }
  {
    std::lock_guard<std::mutex> lock(state->run_mu);
    if (state->running) Throw(env, ErrorKind::GenAI, "Generator is already running generate/stream");
    std::unique_lock<std::mutex> busy(state->mu, std::try_to_lock);
    if (!busy.owns_lock()) Throw(env, ErrorKind::GenAI, "Generator is busy; await the pending call before run()");
    state->running = true;
    state->stop = false;
  }
  loop->sink = TokenSink::Create(env, arg(2).As<Napi::Function>(), "ortgenai.Generator.run",
                                 [weak = std::weak_ptr<GeneratorState>(state)]() {
                                   if (auto s = weak.lock()) s->stop = true;
                                 });
  Napi::Promise promise = loop->sink->Promise();
  Executor::Job job;
  job.work = [loop, create = std::move(create)]() {
    if (create) {
      GeneratorState& s = *loop->state;
      try {
        create(s);
      } catch (const Failure& f) {
        loop->outcome = TokenSink::Outcome::Failed;
        loop->error = f.message;
      } catch (const std::exception& e) {
        loop->outcome = TokenSink::Outcome::Failed;
        loop->error = e.what();
      }
      s.creating = false;
      if (loop->outcome == TokenSink::Outcome::Failed) {
        std::lock_guard<std::mutex> lock(s.run_mu);
        s.running = false;
        return;
      }
    }
    RunLoop(*loop);
  };
  job.then = [loop]() { FinishLoop(*loop); };
  // Environment teardown stops the loop like stop() does.
  job.cancel = [weak = std::weak_ptr<GeneratorState>(state)]() {
    if (auto s = weak.lock()) StopTokenLoop(*s);
  };
  try {
    GetAddonData(env)->executor->Submit(env, std::move(job));
  } catch (const Napi::Error& e) {
    // No thread to run it on: the run fails like any other, and the generator stays usable.
    {
      std::lock_guard<std::mutex> lock(state->run_mu);
      state->running = false;
    }
    state->creating = false;
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
  // Generator.start() has not created it yet: the loop sees `stop` before its prompt.
  if (!state.gen) return;
  // Interrupts a long prefill or step inside ONNX Runtime instead of waiting for it to finish.
  OgaResult* r = api.OgaGenerator_SetRuntimeOption(state.gen.get(), "terminate_session", "1");
  if (r) api.OgaDestroyResult(r);
  else state.terminated = true;
}

}  // namespace oga
