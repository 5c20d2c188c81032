// The threads every blocking ORT-GenAI call of one environment runs on: model loads, stepwise calls, token loops
// and Engine step loops. Persistent threads instead of libuv's pool plus a fresh thread per generation, because
//  - memory: glibc gives each allocating thread its own malloc arena and keeps freed memory there. ONNX Runtime
//    called from libuv's pool threads and a new thread per generation spread its per-run buffers over several
//    arenas. Here one-at-a-time work stays on one thread (one arena), as in a plain C++ loop; N concurrent
//    generations use N workers.
//  - latency: a worker that just finished spins briefly before sleeping, so the next step of a stepwise loop
//    (submitted microseconds later by JS) starts at once instead of waiting for a sleeping thread to be woken.
// Results reach the JS thread through one thread-safe function per environment.
// Environment teardown is one path: Shutdown() cancels the running jobs (a token loop stops, an Engine's step loop
// closes) and waits for every worker, so no native thread outlives the environment or the addon.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace oga {

class Executor {
 public:
  using Work = std::function<void()>;
  // Runs on the JS thread with the environment, after the work; not run if the environment is going away.
  using Complete = std::function<void(Napi::Env)>;

  struct Job {
    Work work;
    Complete complete;  // may be empty
    // Runs on the worker after it counts as idle again: for work that announces its end by other means (a
    // TokenSink), so the JS code the announcement wakes finds this worker free rather than starting another.
    Work then;
    // Long-running work (token loops, step loops) must end when the environment does: Shutdown() calls this on
    // the JS thread, possibly before `work` started, and then waits for `work` to return. Empty: work that ends
    // by itself.
    Work cancel;
  };

  explicit Executor(Napi::Env env);
  ~Executor();

  // JS thread.
  void Submit(Napi::Env env, Job job);

  // Environment teardown: cancels running work, drops queued work, waits for the workers to end.
  void Shutdown();

 private:
  struct Worker;

  void Run(Worker* self, Job job);
  void Finished(Complete complete);

  Napi::ThreadSafeFunction completions_;
  size_t pending_completions_ = 0;  // JS thread only: the event loop is kept alive while this is non-zero

  std::mutex mu_;
  // In creation order; a job goes to the first idle one, so work done one call at a time always lands on the
  // same thread (warm malloc arena and caches) and a burst of concurrent work spreads over the next ones.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::deque<Job> backlog_;  // only while every worker is busy and the cap is reached
  bool closing_ = false;
};

}  // namespace oga
