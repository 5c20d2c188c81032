// State shared by the Generator wrapper (generator.cc) and its native token loop (token_loop.cc).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "addon.h"
#include "tensor.h"

namespace oga {

struct GeneratorState {
  // setModelInput() tensors: the library keeps pointing at their memory, so they live as long as `gen` (declared
  // first, so destroyed after it).
  std::vector<std::unique_ptr<HostTensor>> inputs;
  // Deleter holds the Model and GeneratorParams handles.
  std::shared_ptr<OgaGenerator> gen;
  // The C API is not thread-safe: every call on `gen` happens with this held (the token loop holds it for its
  // whole run). JS-thread calls only try_lock it, so a busy generator is an error, never a blocked event loop.
  std::mutex mu;
  // Valid getSequence() indices: batch_size, times num_return_sequences under beam search.
  size_t sequence_count = 1;
  size_t num_beams = 1;

  // Token loop control. `run_mu` orders stop() against the loop's start and end so that terminate_session is
  // only ever set while the loop owns the generator.
  std::mutex run_mu;
  bool running = false;
  std::atomic<bool> stop{false};
  // ONNX Runtime's terminate flag is set (terminate_session '1', or a stop()); OgaGenerator_IsDone throws a C++
  // exception through the C API then, which aborts the process, so isDone() refuses instead.
  std::atomic<bool> terminated{false};
  // Generator.start(): `gen` is still being created on the worker (it is set under run_mu); calls wait for it.
  std::atomic<bool> creating{false};
};

// Creates the library generator for `state` (sets gen, sequence_count, num_beams under run_mu); worker thread.
void CreateGenerator(GeneratorState& state, std::shared_ptr<OgaModel> model, std::shared_ptr<OgaGeneratorParams> params);

// generator.run(prompt, tokenizer, onChunk, ...) — see token_loop.cc. With `create`, the loop's job first runs it on
// the worker (Generator.start: the generator is created in the same job as its first run, one hand-over less).
Napi::Value StartTokenLoop(const Napi::CallbackInfo& info, size_t first_arg, std::shared_ptr<GeneratorState> state,
                           std::function<void(GeneratorState&)> create = nullptr);
// generator.stop(): stop the running loop within one token, interrupting a prefill in progress.
void StopTokenLoop(GeneratorState& state);

}  // namespace oga
