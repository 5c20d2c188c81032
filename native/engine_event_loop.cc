// The Engine's step loop over the 0.16+ Engine API (ORT-GenAI 0.18.0): requests are created without generation
// parameters and run one turn each (OgaRequestBeginTurn with turn options); every OgaEngineRun runs at most one
// batched step and reports what happened as events (a token, a finished turn, a failure) in a reusable buffer.
// The engine is bound to the thread that created it, which is why the step loop creates it.
//
// What 0.18.0 does on CPU (see README "Engine"): static batching again — batches of 4 requests (the static cache
// manager's size; `engine.static_batching.max_batch_size` is read but does not change it), later requests wait
// for the whole batch; dynamic batching needs a PagedAttention graph, as in 0.15. Closing a request takes it out of
// its batch's sampling at once, so a stopped request needs no fresh engine here.

#include "engine_loop.h"

namespace oga {
namespace {

using engine_event::kFailed;
using engine_event::kToken;
using engine_event::kTurnFinished;

struct BufferDeleter {
  void operator()(OgaEngineEventBuffer* b) const { api.OgaDestroyEngineEventBuffer(b); }
};
struct TurnOptionsDeleter {
  void operator()(OgaTurnOptions* o) const { api.OgaDestroyTurnOptions(o); }
};

// Events one OgaEngineRun may return before the rest waits for the next call: a step yields one per request.
constexpr size_t kEventCapacity = 64;

double SearchNumber(const OgaGeneratorParams* params, const char* name) {
  double value = 0;
  Check(api.OgaGeneratorParamsGetSearchNumber(params, name, &value));
  return value;
}

// The turn options that run a request as its GeneratorParams (built by src/genai/generate.ts) would run a
// Generator. Sampling values are set only for sampled turns: the library refuses them on a greedy one.
std::unique_ptr<OgaTurnOptions, TurnOptionsDeleter> TurnOptionsFor(OgaRequest* request, const EngineRequestState& r) {
  OgaTurnOptions* raw = nullptr;
  Check(api.OgaRequestCreateTurnOptions(request, &raw));
  std::unique_ptr<OgaTurnOptions, TurnOptionsDeleter> options(raw);
  const OgaGeneratorParams* params = r.params.get();
  // max_length counts the prompt, as the Generator's does; a turn counts what it generates.
  const double max_length = SearchNumber(params, "max_length");
  const double prompt = static_cast<double>(r.prompt.size());
  if (max_length <= prompt) {
    throw Failure(ErrorKind::GenAI, "max_length (" + std::to_string(static_cast<int64_t>(max_length)) +
                                        ") leaves no room to generate after the " + std::to_string(r.prompt.size()) +
                                        "-token prompt");
  }
  Check(api.OgaTurnOptionsSetMaxGeneratedTokens(raw, static_cast<uint64_t>(max_length - prompt)));
  const double min_length = SearchNumber(params, "min_length");
  if (min_length > prompt) Check(api.OgaTurnOptionsSetMinGeneratedTokens(raw, static_cast<uint64_t>(min_length - prompt)));
  bool sample = false;
  Check(api.OgaGeneratorParamsGetSearchBool(params, "do_sample", &sample));
  Check(api.OgaTurnOptionsSetDoSample(raw, sample));
  if (sample) {
    Check(api.OgaTurnOptionsSetTemperature(raw, static_cast<float>(SearchNumber(params, "temperature"))));
    Check(api.OgaTurnOptionsSetTopK(raw, static_cast<int32_t>(SearchNumber(params, "top_k"))));
    Check(api.OgaTurnOptionsSetTopP(raw, static_cast<float>(SearchNumber(params, "top_p"))));
    const double seed = SearchNumber(params, "random_seed");
    if (seed >= 0) Check(api.OgaTurnOptionsSetSeed(raw, static_cast<uint64_t>(seed)));
  }
  const double penalty = SearchNumber(params, "repetition_penalty");
  if (penalty != 1.0) Check(api.OgaTurnOptionsSetRepetitionPenalty(raw, static_cast<float>(penalty)));
  return options;
}

std::string ErrorCodeName(uint32_t code) {
  static const char* names[] = {"None", "CapacityDeferred", "ExecutionCapacityExceeded", "RetryableExecution",
                                "RequestUnserviceable", "EngineContractFailure", "EngineExecutionFailure"};
  return code < sizeof(names) / sizeof(names[0]) ? names[code] : "error code " + std::to_string(code);
}

// Owns the OgaEngine, its event buffer and every OgaRequest; nothing else touches them.
class EventLoop : public EngineLoop {
 public:
  using EngineLoop::EngineLoop;

 private:
  void CreateEngine() override {
    OgaEngine* engine = nullptr;
    Check(api.OgaCreateEngine(s_->model.get(), &engine));
    engine_.reset(engine);
    OgaEngineEventBuffer* buffer = nullptr;
    Check(api.OgaCreateEngineEventBuffer(engine, kEventCapacity, &buffer));
    buffer_.reset(buffer);
  }

  // Creates the library's request and begins its one turn.
  void Admit(const RequestPtr& r) override {
    if (r->stop) return Finish(*r, TokenSink::Outcome::Stopped);
    OgaRequest* request = nullptr;
    try {
      if (!engine_) CreateEngine();
      Check(api.OgaEngineCreateRequest(engine_.get(), nullptr, &request));
      auto options = TurnOptionsFor(request, *r);
      uint64_t turn = 0;
      Check(api.OgaRequestBeginTurn(request, options.get(), r->prompt.data(), r->prompt.size(), &turn));
      if (r->tokenizer) Check(api.OgaCreateTokenizerStream(r->tokenizer.get(), &r->stream));
      live_[request] = r;
    } catch (const Failure& f) {
      if (request) Release(request);
      Finish(*r, TokenSink::Outcome::Failed, f.message);
    }
  }

  // Closing takes a stopped request out of its batch's sampling at once.
  void Abandon(OgaRequest* request) override { Release(request); }

  // One OgaEngineRun.
  bool Step() override {
    if (!engine_) return false;
    try {
      bool pending = false;
      Check(api.OgaEngineHasPendingRequests(engine_.get(), &pending));
      if (!pending) return false;
      Check(api.OgaEngineRun(engine_.get(), buffer_.get()));
      bool fatal = false;
      const size_t count = api.OgaEngineEventBufferGetCount(buffer_.get());
      for (size_t i = 0; i < count; i++) fatal |= Handle(api.OgaEngineEventBufferGet(buffer_.get(), i));
      if (fatal) {
        // The library keeps the cause for the next run: fail every request with it, and start over.
        Check(api.OgaEngineRun(engine_.get(), buffer_.get()));
        throw Failure(ErrorKind::GenAI, "the Engine failed and can no longer be used");
      }
      return true;
    } catch (const Failure& f) {
      EndAll(TokenSink::Outcome::Failed, f.message);
      DropEngine();
      return false;
    }
  }

  // Delivers one event; returns whether it says the engine itself failed.
  bool Handle(const OgaEngineEvent* event) {
    uint32_t flags = 0;
    Check(api.OgaEngineEventGetFlags(event, &flags));
    const OgaRequest* request = nullptr;
    Check(api.OgaEngineEventGetRequest(event, &request));
    uint32_t code = 0;
    if (flags & kFailed) Check(api.OgaEngineEventGetErrorCode(event, &code));
    const bool fatal = (flags & kFailed) && (code == engine_event::kEngineContractFailure ||
                                             code == engine_event::kEngineExecutionFailure);
    auto it = live_.find(const_cast<OgaRequest*>(request));
    if (it == live_.end()) return fatal;  // capacity or retry notices, or a request already stopped
    EngineRequestState& r = *it->second;
    if (flags & kToken) {
      int32_t token = 0;
      Check(api.OgaEngineEventGetToken(event, &token));
      const char* text = nullptr;
      if (r.stream) Check(api.OgaTokenizerStreamDecode(r.stream, token, &text));
      r.sink->Produce(&token, 1, text);
    }
    // An engine failure ends every request with its cause, which the next run reports (Step).
    if (fatal || !(flags & kTurnFinished)) return fatal;
    uint32_t reason = 0;
    Check(api.OgaEngineEventGetFinishReason(event, &reason));
    if (reason == engine_event::kFinishEos) DeliverEos(r);
    if (flags & kFailed) {
      Finish(r, TokenSink::Outcome::Failed, "ORT-GenAI's Engine failed this request (" + ErrorCodeName(code) + ")");
    } else {
      Finish(r, TokenSink::Outcome::Done);
    }
    Release(it->first);
    live_.erase(it);
    return fatal;
  }

  // The 0.16+ Engine keeps the end-of-sequence token out of a request's tokens and says "Eos" instead; a
  // Generator's token loop (and the 0.15 Engine) deliver it as the last token, which is how JS tells an EOS end
  // from a length end. So it is delivered here too: the tokenizer's first EOS id (JS drops it from the result).
  void DeliverEos(EngineRequestState& r) {
    if (!r.tokenizer) return;
    const int32_t* ids = nullptr;
    size_t count = 0;
    Check(api.OgaTokenizerGetEosTokenIds(r.tokenizer.get(), &ids, &count));
    if (count == 0) return;
    int32_t token = ids[0];
    const char* text = nullptr;
    if (r.stream) Check(api.OgaTokenizerStreamDecode(r.stream, token, &text));
    r.sink->Produce(&token, 1, text);
  }

  // Closing frees the request's place in the engine at once; without an engine the handle is only destroyed.
  void Release(OgaRequest* request) override {
    if (engine_) {
      OgaResult* result = api.OgaRequestClose(request);
      if (result) api.OgaDestroyResult(result);
    }
    api.OgaDestroyRequest(request);
  }

  // The buffer goes before the engine it was made for; the next request creates both anew.
  void DropEngine() override {
    buffer_.reset();
    engine_.reset();
  }

  EnginePtr engine_;
  std::unique_ptr<OgaEngineEventBuffer, BufferDeleter> buffer_;
};

}  // namespace

void RunEventLoop(const std::shared_ptr<EngineState>& state) { EventLoop(state).Run(); }

}  // namespace oga
