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
#include <unordered_map>

#include "engine.h"

namespace oga {

namespace {

struct EngineDeleter {
  void operator()(OgaEngine* e) const { api.OgaDestroyEngine(e); }
};
using EnginePtr = std::unique_ptr<OgaEngine, EngineDeleter>;

EnginePtr CreateEngine(OgaModel* model) {
  OgaEngine* raw = nullptr;
  Check(api.OgaCreateEngine(model, &raw));
  return EnginePtr(raw);
}

// Owns the OgaEngine and every OgaRequest; nothing else touches them.
class StepLoop {
 public:
  explicit StepLoop(std::shared_ptr<EngineState> state) : s_(std::move(state)) {}

  void Run() {
    try {
      engine_ = CreateEngine(s_->model.get());
    } catch (const Failure& f) {
      return s_->Started(f.message);
    }
    s_->Started("");
    bool busy = false;
    for (;;) {
      std::vector<RequestPtr> added;
      bool closing = false;
      {
        std::unique_lock<std::mutex> lock(s_->mu);
        s_->wake.wait(lock, [&] { return s_->closing || s_->stop_requested || !s_->inbox.empty() || busy; });
        closing = s_->closing;
        added.swap(s_->inbox);
        if (closing) added.insert(added.end(), s_->queued.begin(), s_->queued.end());
        s_->stop_requested = false;
      }
      if (closing) {
        for (auto& r : added) Finish(*r, TokenSink::Outcome::Stopped);
        break;
      }
      for (auto& r : added) Admit(r);
      RetireStopped();
      busy = Step();
      if (live_.empty() && !abandoned_.empty()) {
        // Only stopped requests are left: start over with a fresh engine rather than decoding them to the end.
        DropEngine();
        busy = false;
      }
    }
    EndAll(TokenSink::Outcome::Stopped);
    DropEngine();
  }

 private:
  // Hands a new request to the library; a request it refuses fails on its own.
  void Admit(const RequestPtr& r) {
    if (r->stop) return Finish(*r, TokenSink::Outcome::Stopped);
    OgaRequest* request = nullptr;
    try {
      if (!engine_) engine_ = CreateEngine(s_->model.get());
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
      if (request) api.OgaDestroyRequest(request);
      Finish(*r, TokenSink::Outcome::Failed, f.message);
    }
  }

  // Stopped requests end for JS now. The library keeps decoding them with their batch (RemoveRequest only marks
  // them), so they stay until they complete or the engine is replaced.
  void RetireStopped() {
    for (auto it = live_.begin(); it != live_.end();) {
      if (!it->second->stop) {
        ++it;
        continue;
      }
      OgaResult* result = api.OgaEngineRemoveRequest(engine_.get(), it->first);
      if (result) api.OgaDestroyResult(result);
      abandoned_.push_back(it->first);
      Finish(*it->second, TokenSink::Outcome::Stopped);
      it = live_.erase(it);
    }
  }

  // One OgaEngineStep; returns whether the engine has more work.
  bool Step() {
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

  void Finish(EngineRequestState& r, TokenSink::Outcome outcome, std::string error = "") {
    if (r.stream) api.OgaDestroyTokenizerStream(r.stream);
    r.stream = nullptr;
    r.sink->Finish(outcome, std::move(error));
  }

  void EndAll(TokenSink::Outcome outcome, const std::string& error = "") {
    for (auto& [raw, r] : live_) {
      Finish(*r, outcome, error);
      api.OgaDestroyRequest(raw);
    }
    live_.clear();
  }

  // Destroys the engine and the stopped requests only it still used; the next request creates a new engine.
  void DropEngine() {
    engine_.reset();
    for (OgaRequest* raw : abandoned_) api.OgaDestroyRequest(raw);
    abandoned_.clear();
  }

  std::shared_ptr<EngineState> s_;
  EnginePtr engine_;
  std::unordered_map<OgaRequest*, RequestPtr> live_;
  std::vector<OgaRequest*> abandoned_;
};

}  // namespace

void RunStepLoop(const std::shared_ptr<EngineState>& state) { StepLoop(state).Run(); }

}  // namespace oga
