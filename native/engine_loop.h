// The frame both Engine step loops share (engine_step_loop.cc for the 0.15 Engine API, engine_event_loop.cc for
// 0.16+): create the library's engine and report the start, then wait for work; admit new requests, end stopped
// ones, run one step, until the Engine is closed. The subclass owns the engine and its requests.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "engine.h"

namespace oga {

struct EngineDeleter {
  void operator()(OgaEngine* e) const { api.OgaDestroyEngine(e); }
};
using EnginePtr = std::unique_ptr<OgaEngine, EngineDeleter>;

class EngineLoop {
 public:
  explicit EngineLoop(std::shared_ptr<EngineState> state) : s_(std::move(state)) {}
  virtual ~EngineLoop() = default;

  // Returns when the Engine is closed (dispose(), garbage collection or environment teardown).
  void Run();

 protected:
  // Throws Failure.
  virtual void CreateEngine() = 0;
  // Hands a request to the library; one it refuses fails on its own.
  virtual void Admit(const RequestPtr& r) = 0;
  // One step of the library's engine; returns whether it has more work.
  virtual bool Step() = 0;
  virtual void DropEngine() = 0;
  // A stopped request leaves the library's engine (it may keep a share of the batch until the batch ends).
  virtual void Abandon(OgaRequest* request) = 0;
  // A request the engine ended, or that ends with the engine: its handle is freed.
  virtual void Release(OgaRequest* request) = 0;

  // Stopped requests end for JS at once, whatever the library still does with them.
  void RetireStopped();
  // Ends every live request.
  void EndAll(TokenSink::Outcome outcome, const std::string& error = "");

  // Frees the request's tokenizer stream and settles its promise.
  static void Finish(EngineRequestState& r, TokenSink::Outcome outcome, std::string error = "");

  std::shared_ptr<EngineState> s_;
  // The requests the library is running for JS, by the library's handle.
  std::unordered_map<OgaRequest*, RequestPtr> live_;
};

}  // namespace oga
