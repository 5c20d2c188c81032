// The stepwise C++ reference for the binding's batched greedy generation: the plain ORT-GenAI C API loop
// (AppendTokenSequences, GenerateNextToken until done, GetSequenceData) with nothing of ours in between except
// native/core/runtime.cc, so the library is loaded exactly as the addon loads it (ONNX Runtime by absolute path with
// RTLD_GLOBAL, then ORT-GenAI). test/genai/generator.test.ts compares the addon against it.
//
//   stepwise_reference <ort lib> <genai lib> <model dir> <threads> <max_length> <ids> [<ids> ...]
//
// <ids> is one prompt as comma-separated token ids; all prompts form one padded batch. Prints one line per batch
// row: the full sequence (prompt, padding as the library stores it, new tokens), comma-separated. Errors go to
// stderr with exit code 1.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime.h"

namespace {

using oga::api;

void Check(OgaResult* result) {
  if (!result) return;
  std::string message = api.OgaResultGetError(result);
  api.OgaDestroyResult(result);
  throw std::runtime_error(message);
}

template <class T>
using Owned = std::unique_ptr<T, void (*)(T*)>;

std::vector<int32_t> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) ids.push_back(static_cast<int32_t>(std::stol(item)));
  if (ids.empty()) throw std::invalid_argument("empty prompt");
  return ids;
}

void Run(int argc, char** argv) {
  if (argc < 7) {
    throw std::invalid_argument(
        "usage: stepwise_reference <ort lib> <genai lib> <model dir> <threads> <max_length> <ids> [<ids> ...]");
  }
  std::string err = oga::Load(argv[1], argv[2]);
  if (!err.empty()) throw std::runtime_error(err);
  const std::string dir = argv[3];
  const int threads = std::atoi(argv[4]);
  const double max_length = std::atof(argv[5]);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 6; i < argc; i++) prompts.push_back(ParseIds(argv[i]));

  OgaConfig* config_raw = nullptr;
  Check(api.OgaCreateConfig(dir.c_str(), &config_raw));
  Owned<OgaConfig> config(config_raw, [](OgaConfig* p) { api.OgaDestroyConfig(p); });
  // The same overlay Model.load({ threads }) applies, so both sides run identical session options.
  const std::string overlay =
      "{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + std::to_string(threads) + "}}}}";
  Check(api.OgaConfigOverlay(config.get(), overlay.c_str()));
  OgaModel* model_raw = nullptr;
  Check(api.OgaCreateModelFromConfig(config.get(), &model_raw));
  Owned<OgaModel> model(model_raw, [](OgaModel* p) { api.OgaDestroyModel(p); });

  OgaGeneratorParams* params_raw = nullptr;
  Check(api.OgaCreateGeneratorParams(model.get(), &params_raw));
  Owned<OgaGeneratorParams> params(params_raw, [](OgaGeneratorParams* p) { api.OgaDestroyGeneratorParams(p); });
  Check(api.OgaGeneratorParamsSetSearchNumber(params.get(), "batch_size", static_cast<double>(prompts.size())));
  Check(api.OgaGeneratorParamsSetSearchNumber(params.get(), "max_length", max_length));
  Check(api.OgaGeneratorParamsSetSearchBool(params.get(), "do_sample", false));

  OgaSequences* seqs_raw = nullptr;
  Check(api.OgaCreateSequences(&seqs_raw));
  Owned<OgaSequences> seqs(seqs_raw, [](OgaSequences* p) { api.OgaDestroySequences(p); });
  for (const auto& p : prompts) Check(api.OgaAppendTokenSequence(p.data(), p.size(), seqs.get()));

  OgaGenerator* gen_raw = nullptr;
  Check(api.OgaCreateGenerator(model.get(), params.get(), &gen_raw));
  Owned<OgaGenerator> gen(gen_raw, [](OgaGenerator* p) { api.OgaDestroyGenerator(p); });
  Check(api.OgaGenerator_AppendTokenSequences(gen.get(), seqs.get()));
  while (!api.OgaGenerator_IsDone(gen.get())) Check(api.OgaGenerator_GenerateNextToken(gen.get()));

  for (size_t row = 0; row < prompts.size(); row++) {
    const size_t count = api.OgaGenerator_GetSequenceCount(gen.get(), row);
    const int32_t* data = api.OgaGenerator_GetSequenceData(gen.get(), row);
    for (size_t k = 0; k < count; k++) std::printf(k ? ",%d" : "%d", data[k]);
    std::printf("\n");
  }
  // Everything that holds library memory must be gone before OgaShutdown (see ort_genai_c.h).
  gen.reset();
  seqs.reset();
  params.reset();
  model.reset();
  config.reset();
  api.OgaShutdown();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Run(argc, argv);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stepwise_reference: %s\n", e.what());
    return 1;
  }
}
