#include "engine_loop.h"

namespace oga {

void EngineLoop::Run() {
  try {
    CreateEngine();
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
  }
  EndAll(TokenSink::Outcome::Stopped);
  DropEngine();
}

void EngineLoop::RetireStopped() {
  for (auto it = live_.begin(); it != live_.end();) {
    if (!it->second->stop) {
      ++it;
      continue;
    }
    Abandon(it->first);
    Finish(*it->second, TokenSink::Outcome::Stopped);
    it = live_.erase(it);
  }
}

void EngineLoop::EndAll(TokenSink::Outcome outcome, const std::string& error) {
  for (auto& [raw, r] : live_) {
    Finish(*r, outcome, error);
    Release(raw);
  }
  live_.clear();
}

void EngineLoop::Finish(EngineRequestState& r, TokenSink::Outcome outcome, std::string error) {
  if (r.stream) api.OgaDestroyTokenizerStream(r.stream);
  r.stream = nullptr;
  r.sink->Finish(outcome, std::move(error));
}

}  // namespace oga
