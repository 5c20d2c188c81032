#include "executor.h"

#include <chrono>
#include <string>
#include <system_error>

namespace oga {
namespace {

// Long enough to bridge the gap between one stepwise call's result reaching JS and the next call (~10 µs, more
// on a loaded machine), short enough not to matter when nothing follows. Yielding while spinning leaves the core
// to the JS thread when both want it.
constexpr auto kSpin = std::chrono::microseconds(200);
// Each running job holds a worker (a token loop holds one for its whole generation); past this many, jobs wait.
constexpr size_t kMaxWorkers = 256;

}  // namespace

struct Executor::Worker {
  std::thread thread;
  bool idle = false;  // guarded by Executor::mu_
  std::mutex mu;
  std::condition_variable wake;
  std::atomic<bool> has_job{false};  // read while spinning, without `mu`
  Job job;                           // set under `mu` together with has_job
  bool exit = false;
  Work cancel;  // guarded by Executor::mu_: the cancel of the job given to this worker until its work returned
};

Executor::Executor(Napi::Env env) {
  completions_ = Napi::ThreadSafeFunction::New(env, Napi::Function(), "ortgenai.completions", 0, 1);
  completions_.Unref(env);
}

Executor::~Executor() { Shutdown(); }

void Executor::Submit(Napi::Env env, Job job) {
  const bool reports = static_cast<bool>(job.complete);  // `job` may be moved from below
  if (reports && pending_completions_++ == 0) completions_.Ref(env);
  Worker* worker = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : workers_) {
      if (w->idle) {
        worker = w.get();
        break;
      }
    }
    if (!worker) {
      if (workers_.size() >= kMaxWorkers) {
        backlog_.push_back(std::move(job));
      } else {
        workers_.push_back(std::make_unique<Worker>());
        Worker* fresh = workers_.back().get();
        fresh->cancel = job.cancel;
        try {
          fresh->thread = std::thread(&Executor::Run, this, fresh, std::move(job));
        } catch (const std::system_error& e) {
          // Out of threads (ulimit, memory): the call fails, the process goes on.
          workers_.pop_back();
          if (reports && --pending_completions_ == 0) completions_.Unref(env);
          throw Napi::Error::New(env, std::string("cannot start a worker thread: ") + e.what());
        }
      }
      return;
    }
    worker->idle = false;
    worker->cancel = job.cancel;
  }
  {
    std::lock_guard<std::mutex> lock(worker->mu);
    worker->job = std::move(job);
    worker->has_job.store(true, std::memory_order_release);
  }
  worker->wake.notify_one();
}

void Executor::Run(Worker* self, Job job) {
  for (;;) {
    // Each job reports its own failures; one escaping here would end the process (std::terminate).
    try {
      job.work();
    } catch (...) {
    }
    Complete complete = std::move(job.complete);
    Work then = std::move(job.then);
    job = Job{};
    bool next = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      self->cancel = nullptr;
      if (!backlog_.empty()) {
        job = std::move(backlog_.front());
        backlog_.pop_front();
        self->cancel = job.cancel;
        next = true;
      } else if (!closing_) {
        // Idle before the end is announced, so the JS call it triggers finds this worker, not a new one.
        self->idle = true;
      }
    }
    if (complete) Finished(std::move(complete));
    if (then) {
      then();
      then = nullptr;  // what it holds (a Generator) must not live on while this worker waits
    }
    if (next) continue;

    auto until = std::chrono::steady_clock::now() + kSpin;
    while (!self->has_job.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < until) {
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(self->mu);
    self->wake.wait(lock, [self] { return self->has_job.load(std::memory_order_relaxed) || self->exit; });
    if (!self->has_job.load(std::memory_order_relaxed)) return;
    job = std::move(self->job);
    self->job = Job{};
    self->has_job.store(false, std::memory_order_relaxed);
  }
}

void Executor::Finished(Complete complete) {
  auto* pending = new Complete(std::move(complete));
  napi_status status = completions_.NonBlockingCall([this, pending](Napi::Env env, Napi::Function) {
    std::unique_ptr<Complete> owned(pending);
    if (!env) return;
    (*owned)(env);
    if (--pending_completions_ == 0) completions_.Unref(env);
  });
  // The environment is going away: nobody is waiting for the result.
  if (status != napi_ok) delete pending;
}

void Executor::Shutdown() {
  std::deque<Job> dropped;
  std::vector<Work> cancels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return;
    closing_ = true;
    dropped.swap(backlog_);
    for (auto& worker : workers_) {
      if (worker->cancel) cancels.push_back(worker->cancel);
    }
  }
  // Outside the lock: a cancel may take its job's own locks, which the job holds while it reaches for mu_.
  for (auto& cancel : cancels) cancel();
  for (auto& worker : workers_) {
    {
      std::lock_guard<std::mutex> lock(worker->mu);
      worker->exit = true;
    }
    worker->wake.notify_one();
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

}  // namespace oga
