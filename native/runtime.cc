#include "runtime.h"

#include <dlfcn.h>

#include <mutex>

namespace oga {

Api api;

namespace {

std::mutex load_mutex;
bool loaded = false;
std::string loaded_ort;
std::string loaded_genai;

// The soname ORT-GenAI asks the dynamic loader for. If it is not already resident when ORT-GenAI first needs
// ONNX Runtime, ORT-GenAI throws from a noexcept context and the whole process aborts.
constexpr const char* kOrtSoname = "libonnxruntime.so.1";

std::string DlError() {
  const char* e = dlerror();
  return e ? e : "unknown dynamic loader error";
}

// ONNX Runtime's entry point, declared here so we need no ORT headers: OrtApiBase's second member returns the
// version string.
struct OrtApiBaseView {
  const void* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};

std::string LoadOrt(const std::string& path) {
  void* ort = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!ort) return "could not load ONNX Runtime from " + path + ": " + DlError();
  auto get_api_base = reinterpret_cast<const OrtApiBaseView* (*)()>(dlsym(ort, "OrtGetApiBase"));
  if (!get_api_base) {
    dlclose(ort);
    return path + " is not an ONNX Runtime library (it has no OrtGetApiBase symbol)";
  }
  if (!dlopen(kOrtSoname, RTLD_NOW | RTLD_NOLOAD)) {
    dlclose(ort);
    return "ONNX Runtime at " + path + " was loaded, but ORT-GenAI looks for it as '" + kOrtSoname +
           "' and the loaded library has a different soname; point ORT_LIB_PATH at a build whose soname is " +
           kOrtSoname;
  }
  return "";
}

std::string LoadGenAI(const std::string& path) {
  void* genai = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!genai) return "could not load ORT-GenAI from " + path + ": " + DlError();
  Api table;
#define OGA_RESOLVE(name)                                                                                    \
  table.name = reinterpret_cast<decltype(table.name)>(dlsym(genai, #name));                                \
  if (!table.name) {                                                                                       \
    dlclose(genai);                                                                                        \
    return "wrong ORT-GenAI version at " + path + ": it does not export " #name                            \
           " (this package needs ONNX Runtime GenAI 0.15.x)";                                              \
  }
  OGA_API_FUNCTIONS(OGA_RESOLVE)
#undef OGA_RESOLVE
  api = table;
  return "";
}

}  // namespace

std::string Load(const std::string& ort_path, const std::string& genai_path) {
  std::lock_guard<std::mutex> lock(load_mutex);
  if (loaded) {
    if (ort_path != loaded_ort || genai_path != loaded_genai) {
      return "the runtime is already loaded from " + loaded_ort + " and " + loaded_genai +
             " in this process; it cannot be switched to " + ort_path + " and " + genai_path;
    }
    return "";
  }
  std::string err = LoadOrt(ort_path);
  if (!err.empty()) return err;
  err = LoadGenAI(genai_path);
  if (!err.empty()) return err;
  loaded = true;
  loaded_ort = ort_path;
  loaded_genai = genai_path;
  return "";
}

bool IsLoaded() {
  std::lock_guard<std::mutex> lock(load_mutex);
  return loaded;
}

std::string LoadedOrtPath() {
  std::lock_guard<std::mutex> lock(load_mutex);
  return loaded_ort;
}

std::string LoadedGenAIPath() {
  std::lock_guard<std::mutex> lock(load_mutex);
  return loaded_genai;
}

}  // namespace oga
