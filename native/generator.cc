// Generator: one generation's state (KV cache, sequences). Stepwise API; generate/stream use the native token
// loop in token_loop.cc instead of one round trip per token.
#include "generator.h"

#include "core/async.h"

namespace oga {
namespace {

class Generator : public HandleWrap<Generator, GeneratorState> {
 public:
  static constexpr const char* kName = "Generator";
  using HandleWrap::HandleWrap;

  // create(model, params): Promise<Generator>
  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaModel> model = ModelFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    std::shared_ptr<OgaGeneratorParams> params =
        GeneratorParamsFrom(env, info.Length() > 1 ? info[1] : env.Undefined());
    using State = std::shared_ptr<GeneratorState>;
    return RunAsync<State>(
        env,
        [model, params]() {
          auto state = std::make_shared<GeneratorState>();
          CreateGenerator(*state, model, params);
          return state;
        },
        [](Napi::Env env, State& state) -> Napi::Value { return Wrap(env, GetAddonData(env)->generator, state); });
  }

  // start(params, prompt, tokenizer, onChunk, topLogprobs?, maxNewTokens?): { generator, done } — create() and
  // run() in one executor job, so the prefill starts on the worker without a round trip through the JS thread.
  // `generator` is returned at once (busy until its run ends, stop() works from the start); `done` is run()'s.
  // The model is the params' own, so a model disposed in JS after the params were made still serves this run.
  static Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value params_arg = info.Length() > 0 ? info[0] : env.Undefined();
    std::shared_ptr<OgaGeneratorParams> params = GeneratorParamsFrom(env, params_arg);
    std::shared_ptr<OgaModel> model = ModelOfParams(env, params_arg);
    auto state = std::make_shared<GeneratorState>();
    state->creating = true;
    Napi::Value done = StartTokenLoop(info, 1, state, [model, params](GeneratorState& s) { CreateGenerator(s, model, params); });
    Napi::Object out = Napi::Object::New(env);
    out.Set("generator", Wrap(env, GetAddonData(env)->generator, state));
    out.Set("done", done);
    return out;
  }

  // appendTokens(ids): Promise<void> — the prefill, so it runs off the JS thread.
  Napi::Value AppendTokens(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto tokens = Tokens(env, info.Length() ? info[0] : env.Undefined(), "tokens");
    if (tokens.empty()) Throw(env, ErrorKind::Validation, "appendTokens needs at least one token");
    return Locked(env, "appendTokens", [tokens](GeneratorState& s) {
      Check(api.OgaGenerator_AppendTokens(s.gen.get(), tokens.data(), tokens.size()));
    });
  }

  // appendTokenSequences(seqs: (Int32Array | number[])[]): Promise<void>; padded by the library.
  Napi::Value AppendTokenSequences(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) Throw(env, ErrorKind::Validation, "sequences must be an array");
    auto arr = info[0].As<Napi::Array>();
    std::vector<std::vector<int32_t>> seqs;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      seqs.push_back(Tokens(env, arr.Get(i), "sequences[i]"));
      if (seqs.back().empty()) Throw(env, ErrorKind::Validation, "sequence " + std::to_string(i) + " is empty");
    }
    return Locked(env, "appendTokenSequences", [seqs](GeneratorState& s) {
      OgaSequences* raw = nullptr;
      Check(api.OgaCreateSequences(&raw));
      std::unique_ptr<OgaSequences, void (*)(OgaSequences*)> owned(raw, [](OgaSequences* p) { api.OgaDestroySequences(p); });
      for (const auto& seq : seqs) Check(api.OgaAppendTokenSequence(seq.data(), seq.size(), raw));
      Check(api.OgaGenerator_AppendTokenSequences(s.gen.get(), raw));
    });
  }

  // generateNextToken(): Promise<void>
  Napi::Value GenerateNextToken(const Napi::CallbackInfo& info) {
    return Locked(info.Env(), "generateNextToken", [](GeneratorState& s) {
      if (api.OgaGenerator_IsDone(s.gen.get())) {
        throw Failure(ErrorKind::GenAI,
                      "generateNextToken() called after the generator finished (isDone() is true: EOS or max_length "
                      "reached); rewind it or create a new Generator");
      }
      Check(api.OgaGenerator_GenerateNextToken(s.gen.get()));
    });
  }

  Napi::Value IsDone(const Napi::CallbackInfo& info) {
    auto lock = TryLock(info.Env(), "isDone");
    GeneratorState& s = *Get(info.Env());
    if (s.terminated) {
      Throw(info.Env(), ErrorKind::GenAI,
            "the generator's session is terminated (terminate_session); setRuntimeOption('terminate_session', '0') "
            "lets it go on");
    }
    return Napi::Boolean::New(info.Env(), api.OgaGenerator_IsDone(s.gen.get()));
  }

  Napi::Value TokenCount(const Napi::CallbackInfo& info) {
    auto lock = TryLock(info.Env(), "tokenCount");
    return Napi::Number::New(info.Env(), static_cast<double>(api.OgaGenerator_TokenCount(Get(info.Env())->gen.get())));
  }

  Napi::Value GetNextTokens(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto lock = TryLock(env, "getNextTokens");
    const int32_t* data = nullptr;
    size_t count = 0;
    Check(env, api.OgaGenerator_GetNextTokens(Get(env)->gen.get(), &data, &count));
    return ToInt32Array(env, data, count);
  }

  Napi::Value GetSequence(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto lock = TryLock(env, "getSequence");
    GeneratorState& s = *Get(env);
    // Reading a sequence mid beam search changes the search itself in ORT-GenAI 0.15.2 and 0.18.0 (it then ends
    // early with shorter sequences), so it is only answered once the search is done.
    if (s.num_beams > 1 && !api.OgaGenerator_IsDone(s.gen.get())) {
      Throw(env, ErrorKind::GenAI,
            "getSequence() during a beam search (num_beams > 1) would change the search in ORT-GenAI " +
                GenAIVersionName() + "; call it once isDone() is true");
    }
    double index = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    // Past the batch the library reads out of bounds (garbage, or a segfault under beam search).
    if (index < 0 || index != static_cast<size_t>(index) || index >= s.sequence_count) {
      Throw(env, ErrorKind::Validation,
            "sequence index must be an integer in [0, " + std::to_string(s.sequence_count) + "), got " +
                (info.Length() > 0 ? info[0].ToString().Utf8Value() : std::string("nothing")));
    }
    size_t i = static_cast<size_t>(index);
    size_t count = api.OgaGenerator_GetSequenceCount(s.gen.get(), i);
    return ToInt32Array(env, count ? api.OgaGenerator_GetSequenceData(s.gen.get(), i) : nullptr, count);
  }

  Napi::Value RewindTo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto lock = TryLock(env, "rewindTo");
    GeneratorState& s = *Get(env);
    double n = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    size_t count = api.OgaGenerator_TokenCount(s.gen.get());
    if (n < 0 || n != static_cast<size_t>(n) || n > count) {
      Throw(env, ErrorKind::Validation, "rewindTo needs an integer length in [0, " + std::to_string(count) + "]");
    }
    Check(env, api.OgaGenerator_RewindTo(s.gen.get(), static_cast<size_t>(n)));
    return env.Undefined();
  }

  // getLogits(): { type, data: Float32Array, shape: number[] } — the last position's logits, [batch*beams, 1, vocab].
  Napi::Value GetLogits(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto lock = TryLock(env, "getLogits");
    GeneratorState& s = *Get(env);
    // ORT-GenAI before 0.18 corrupts its heap copying beam-search logits and the process aborts (SIGABRT).
    if (s.num_beams > 1 && GenAIOlderThan(0, 18)) {
      Throw(env, ErrorKind::GenAI,
            "getLogits() with num_beams > 1 crashes ORT-GenAI " + GenAIVersionName() + " (fixed in 0.18); use num_beams 1");
    }
    // With no tokens the library runs the model on an empty input and fails deep inside ONNX Runtime.
    if (api.OgaGenerator_TokenCount(s.gen.get()) == 0) {
      Throw(env, ErrorKind::GenAI, "getLogits() needs a prompt first: call appendTokens() or appendTokenSequences()");
    }
    OgaTensor* raw = nullptr;
    Check(env, api.OgaGenerator_GetLogits(s.gen.get(), &raw));
    return TensorToJs(env, OwnTensor(raw).get());
  }

  // setLogits(data: Float32Array): the library checks the size against the current logits.
  Napi::Value SetLogits(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto lock = TryLock(env, "setLogits");
    GeneratorState& s = *Get(env);
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      Throw(env, ErrorKind::Validation, "logits must be a Float32Array");
    }
    Napi::Object wrapped = Napi::Object::New(env);
    wrapped.Set("data", info[0]);
    Napi::Array shape = Napi::Array::New(env, 1);
    shape.Set(0u, Napi::Number::New(env, static_cast<double>(info[0].As<Napi::Float32Array>().ElementLength())));
    wrapped.Set("shape", shape);
    std::unique_ptr<HostTensor> logits = TensorFromJs(env, wrapped, "logits");
    Check(env, api.OgaGenerator_SetLogits(s.gen.get(), logits->tensor.get()));
    return env.Undefined();
  }

  // getOutput(name): a copy of the model output `name` from the last run, as { type, shape, data }.
  Napi::Value GetOutput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    auto lock = TryLock(env, "getOutput");
    GeneratorState& s = *Get(env);
    // Before 0.18 the library dereferences a null output for names it does not know or has not computed yet
    // (SIGSEGV); 'logits' after a run is the one output it always has.
    if (GenAIOlderThan(0, 18) && (name != "logits" || api.OgaGenerator_TokenCount(s.gen.get()) == 0)) {
      Throw(env, ErrorKind::GenAI,
            "getOutput('" + name + "') may crash ORT-GenAI " + GenAIVersionName() +
                "; before 0.18 only 'logits' can be read, after appendTokens()");
    }
    OgaTensor* raw = nullptr;
    Check(env, api.OgaGenerator_GetOutput(s.gen.get(), name.c_str(), &raw));
    return TensorToJs(env, OwnTensor(raw).get());
  }

  // setModelInput(name, { data, shape, type? }): an extra model input the library does not fill itself.
  Napi::Value SetModelInput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name = StringArg(info, 0, "name");
    std::unique_ptr<HostTensor> input = TensorFromJs(env, info.Length() > 1 ? info[1] : env.Undefined(), "tensor");
    auto lock = TryLock(env, "setModelInput");
    GeneratorState& s = *Get(env);
    Check(env, api.OgaGenerator_SetModelInput(s.gen.get(), name.c_str(), input->tensor.get()));
    s.inputs.push_back(std::move(input));
    return env.Undefined();
  }

  Napi::Value SetRuntimeOption(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string key = StringArg(info, 0, "key"), value = StringArg(info, 1, "value");
    // terminate_session exists to interrupt a call running on another thread, so it must not wait for the lock.
    if (key == "terminate_session") {
      GeneratorState& s = *Get(env);
      if (s.creating) Throw(env, ErrorKind::GenAI, "Generator is busy being created by start(); await its run");
      if (!s.gen) Throw(env, ErrorKind::GenAI, NotCreated("setRuntimeOption"));
      Check(env, api.OgaGenerator_SetRuntimeOption(s.gen.get(), key.c_str(), value.c_str()));
      s.terminated = value == "1";
      return env.Undefined();
    }
    auto lock = TryLock(env, "setRuntimeOption");
    Check(env, api.OgaGenerator_SetRuntimeOption(Get(env)->gen.get(), key.c_str(), value.c_str()));
    return env.Undefined();
  }

  Napi::Value SetActiveAdapter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaAdapters> adapters = AdaptersFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    std::string name = StringArg(info, 1, "name");
    auto lock = TryLock(env, "setActiveAdapter");
    Check(env, api.OgaSetActiveAdapter(Get(env)->gen.get(), adapters.get(), name.c_str()));
    return env.Undefined();
  }

  Napi::Value Run(const Napi::CallbackInfo& info) { return StartTokenLoop(info, 0, Get(info.Env())); }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_) StopTokenLoop(*handle_);
    return info.Env().Undefined();
  }

  // Stopping a running loop first lets dispose() return promptly; the loop's own reference frees the rest.
  Napi::Value DisposeGenerator(const Napi::CallbackInfo& info) {
    if (handle_) StopTokenLoop(*handle_);
    return Dispose(info);
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         StaticMethod("create", &Generator::Create),
                                         StaticMethod("start", &Generator::Start),
                                         InstanceMethod("appendTokens", &Generator::AppendTokens),
                                         InstanceMethod("appendTokenSequences", &Generator::AppendTokenSequences),
                                         InstanceMethod("generateNextToken", &Generator::GenerateNextToken),
                                         InstanceMethod("isDone", &Generator::IsDone),
                                         InstanceMethod("tokenCount", &Generator::TokenCount),
                                         InstanceMethod("getNextTokens", &Generator::GetNextTokens),
                                         InstanceMethod("getSequence", &Generator::GetSequence),
                                         InstanceMethod("rewindTo", &Generator::RewindTo),
                                         InstanceMethod("getLogits", &Generator::GetLogits),
                                         InstanceMethod("setLogits", &Generator::SetLogits),
                                         InstanceMethod("getOutput", &Generator::GetOutput),
                                         InstanceMethod("setModelInput", &Generator::SetModelInput),
                                         InstanceMethod("setRuntimeOption", &Generator::SetRuntimeOption),
                                         InstanceMethod("setActiveAdapter", &Generator::SetActiveAdapter),
                                         InstanceMethod("run", &Generator::Run),
                                         InstanceMethod("stop", &Generator::Stop),
                                         InstanceMethod("dispose", &Generator::DisposeGenerator),
                                         InstanceAccessor("disposed", &Generator::Disposed, nullptr),
                                     });
    data->generator = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }

 private:
  std::unique_lock<std::mutex> TryLock(Napi::Env env, const char* what) {
    std::unique_lock<std::mutex> lock(Get(env)->mu, std::try_to_lock);
    // A generator that start() is still creating has no library handle yet; its loop takes the lock next.
    if (!lock.owns_lock() || Get(env)->creating) {
      Throw(env, ErrorKind::GenAI,
            std::string("Generator is busy (a previous async call or a generate/stream is still running); await it "
                        "before calling ") +
                what + "()");
    }
    // Read only once `creating` is false: the worker sets gen before it clears the flag.
    if (!Get(env)->gen) Throw(env, ErrorKind::GenAI, NotCreated(what));
    return lock;
  }

  static std::string NotCreated(const char* what) {
    return std::string("the generator was never created (its start() failed); ") + what + "() has nothing to act on";
  }

  // Runs `fn` on the executor with the generator's lock held.
  template <class Fn>
  Napi::Value Locked(Napi::Env env, const char* what, Fn fn) {
    std::shared_ptr<GeneratorState> state = Get(env);
    return RunAsync<Nothing>(
        env,
        [state, fn, what]() {
          {
            // Waiting for a whole generate/stream would hold an executor worker for its duration.
            std::lock_guard<std::mutex> run_lock(state->run_mu);
            if (state->running) {
              throw Failure(ErrorKind::GenAI, std::string("Generator is busy running generate/stream; ") + what +
                                                  "() must wait until it ends");
            }
          }
          std::lock_guard<std::mutex> lock(state->mu);
          if (!state->gen) throw Failure(ErrorKind::GenAI, NotCreated(what));
          fn(*state);
          return Nothing{};
        },
        Undefined);
  }
};

}  // namespace

void CreateGenerator(GeneratorState& state, std::shared_ptr<OgaModel> model, std::shared_ptr<OgaGeneratorParams> params) {
  double batch = 1, beams = 1, returns = 1;
  Check(api.OgaGeneratorParamsGetSearchNumber(params.get(), "batch_size", &batch));
  Check(api.OgaGeneratorParamsGetSearchNumber(params.get(), "num_beams", &beams));
  Check(api.OgaGeneratorParamsGetSearchNumber(params.get(), "num_return_sequences", &returns));
  OgaGenerator* raw = nullptr;
  Check(api.OgaCreateGenerator(model.get(), params.get(), &raw));
  std::shared_ptr<OgaGenerator> gen(raw, [model, params](OgaGenerator* g) { api.OgaDestroyGenerator(g); });
  // Under run_mu: stop() on the JS thread reads gen to interrupt the run.
  std::lock_guard<std::mutex> lock(state.run_mu);
  state.gen = std::move(gen);
  state.sequence_count = static_cast<size_t>(batch) * (beams > 1 ? static_cast<size_t>(returns) : 1);
  state.num_beams = static_cast<size_t>(beams);
}

void InitGenerator(Napi::Env env, Napi::Object exports, AddonData* data) { Generator::Init(env, exports, data); }

}  // namespace oga
