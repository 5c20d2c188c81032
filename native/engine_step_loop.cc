// The Engine's step loop over the 0.15 Engine API: OgaEngineAddRequest, then OgaEngineStep returns one ready
// request at a time, whose new tokens are read with OgaRequestGetUnseenToken. Each request's tokens reach JS in
// batches through its own TokenSink, like the Generator's token loop.
//
// What 0.15.2 does on CPU (see README "Engine"): without `engine.dynamic_batching` in genai_config.json it uses
// static batching — up to 4 requests share one KV cache, and requests added meanwhile wait until that whole batch
// has finished. OgaEngineRemoveRequest only marks a request: it keeps being decoded until its batch ends. So a
// stopped request is finished for JS at once, and when nothing but stopped requests is left, the engine is
// replaced by a fresh one instead of decoding them to the end.
#include <algorithm>

#include "engine_loop.h"

namespace oga {

namespace {

// Owns the OgaEngine and every OgaRequest; nothing else touches them.
class StepLoop : public EngineLoop {
 public:
  using EngineLoop::EngineLoop;

 private:
  void CreateEngine() override {
    OgaEngine* raw = nullptr;
    Check(api.OgaCreateEngine(s_->model.get(), &raw));
    engine_.reset(raw);
  }

  void Admit(const RequestPtr& r) override {
    if (r->stop) return Finish(*r, TokenSink::Outcome::Stopped);
    OgaRequest* request = nullptr;
    try {
      if (!engine_) CreateEngine();
      Check(api.OgaCreateRequest(r->params.get(), &request));
      OgaSequences* seqs = nullptr;
      Check(api.OgaCreateSequences(&seqs));
      std::unique_ptr<OgaSequences, void (*)(OgaSequences*)> owned(seqs, [](OgaSequences* p) { api.OgaDestroySequences(p); });
      Check(api.OgaAppendTokenSequence(r->prompt.data(), r->prompt.size(), seqs));
      Check(api.OgaRequestAddTokens(request, seqs));
      if (r->tokenizer) Check(api.OgaCreateTokenizerStream(r->tokenizer.get(), &r->stream));
      Check(api.OgaEngineAddRequest(engine_.get(), request));
      live_[request] = r;
    } catch (const Failure& f) {
      if (request) Release(request);
      Finish(*r, TokenSink::Outcome::Failed, f.message);
    }
  }

  // The library keeps decoding a removed request with its batch (RemoveRequest only marks it), so its handle
  // stays until it completes or the engine is replaced.
  void Abandon(OgaRequest* request) override {
    OgaResult* result = api.OgaEngineRemoveRequest(engine_.get(), request);
    if (result) api.OgaDestroyResult(result);
    abandoned_.push_back(request);
  }

  void Release(OgaRequest* request) override { api.OgaDestroyRequest(request); }

  // One OgaEngineStep. When only stopped requests are left, starts over with a fresh engine rather than decoding
  // them to the end.
  bool Step() override {
    const bool more = StepOnce();
    if (!live_.empty() || abandoned_.empty()) return more;
    DropEngine();
    return false;
  }

  bool StepOnce() {
    if (!engine_) return false;
    try {
      bool pending = false;
      Check(api.OgaEngineHasPendingRequests(engine_.get(), &pending));
      if (!pending) {
        // Everything completed; each request's last token was delivered when the step returned it.
        EndAll(TokenSink::Outcome::Done);
        return false;
      }
      OgaRequest* ready = nullptr;
      Check(api.OgaEngineStep(engine_.get(), &ready));
      if (ready) Collect(ready);
      return true;
    } catch (const Failure& f) {
      // A failed step leaves the batch in an unknown state: fail what it held and start over with a new engine.
      EndAll(TokenSink::Outcome::Failed, f.message);
      DropEngine();
      return false;
    }
  }

  // Delivers a ready request's new tokens, and ends it when the library says it is done.
  void Collect(OgaRequest* ready) {
    auto it = live_.find(ready);
    bool has = false;
    Check(api.OgaRequestHasUnseenTokens(ready, &has));
    while (has) {
      int32_t token = 0;
      Check(api.OgaRequestGetUnseenToken(ready, &token));
      if (it != live_.end()) {
        EngineRequestState& r = *it->second;
        const char* text = nullptr;
        if (r.stream) Check(api.OgaTokenizerStreamDecode(r.stream, token, &text));
        r.sink->Produce(&token, 1, text);
      }
      Check(api.OgaRequestHasUnseenTokens(ready, &has));
    }
    bool done = false;
    Check(api.OgaRequestIsDone(ready, &done));
    if (!done) return;
    if (it != live_.end()) {
      Finish(*it->second, TokenSink::Outcome::Done);
      live_.erase(it);
    } else {
      abandoned_.erase(std::remove(abandoned_.begin(), abandoned_.end(), ready), abandoned_.end());
    }
    api.OgaDestroyRequest(ready);
  }

  // Destroys the engine and the stopped requests only it still used; the next request creates a new engine.
  void DropEngine() override {
    engine_.reset();
    for (OgaRequest* raw : abandoned_) api.OgaDestroyRequest(raw);
    abandoned_.clear();
  }

  EnginePtr engine_;
  std::vector<OgaRequest*> abandoned_;
};

}  // namespace

void RunStepLoop(const std::shared_ptr<EngineState>& state) { StepLoop(state).Run(); }

}  // namespace oga
