#include "runtime.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>

namespace oga {

Api api;

namespace {

std::mutex load_mutex;
bool loaded = false;
std::string loaded_ort;
std::string loaded_genai;
std::string loaded_genai_version;

// The soname ORT-GenAI asks the dynamic loader for. If it is not already resident when ORT-GenAI first needs
// ONNX Runtime, ORT-GenAI throws from a noexcept context and the whole process aborts.
constexpr const char* kOrtSoname = "libonnxruntime.so.1";

std::string DlError() {
  const char* e = dlerror();
  return e ? e : "unknown dynamic loader error";
}

// Whether the ELF file at `path` exports `symbol`, read from its dynamic symbol table without loading it.
// dlopen runs a library's static initializers, and ORT-GenAI's look for ONNX Runtime at once and abort the process
// when it is absent, so a file has to prove what it is before we dlopen it.
// Returns "" and sets *found, or an error message when the file is not a readable 64-bit ELF shared object.
std::string ElfExports(const std::string& path, const char* symbol, bool* found) {
  *found = false;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return path + " is not a shared library (too small to be an ELF file)";
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return "cannot read " + path + ": " + std::strerror(errno);
  const auto* base = static_cast<const unsigned char*>(map);
  auto in_file = [&](uint64_t off, uint64_t len) { return off <= size && len <= size - off; };
  std::string err;
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
    err = path + " is not a shared library (not a 64-bit ELF file)";
  } else if (eh->e_shentsize != sizeof(Elf64_Shdr) || !in_file(eh->e_shoff, uint64_t(eh->e_shnum) * sizeof(Elf64_Shdr))) {
    err = path + " has a damaged ELF section table";
  } else {
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (size_t i = 0; i < eh->e_shnum && !*found; i++) {
      const Elf64_Shdr& sym = sections[i];
      if (sym.sh_type != SHT_DYNSYM || sym.sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& str = sections[sym.sh_link];
      if (!in_file(sym.sh_offset, sym.sh_size) || !in_file(str.sh_offset, str.sh_size)) continue;
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sym.sh_offset);
      const char* names = reinterpret_cast<const char*>(base + str.sh_offset);
      size_t name_len = std::strlen(symbol);
      for (size_t k = 0; k < sym.sh_size / sizeof(Elf64_Sym); k++) {
        const Elf64_Sym& s = syms[k];
        if (s.st_shndx == SHN_UNDEF || s.st_name + name_len >= str.sh_size) continue;
        if (std::memcmp(names + s.st_name, symbol, name_len + 1) == 0) {
          *found = true;
          break;
        }
      }
    }
  }
  munmap(map, size);
  return err;
}

// The release ORT-GenAI states in its telemetry strings: "OnnxRuntimeGenAI\0sdkVersion\0<version>\0" (0.15 and
// 0.18 alike). "" when the file does not contain them (e.g. a build without telemetry).
std::string ReadGenAIVersion(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    close(fd);
    return "";
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return "";
  static const char marker[] = "OnnxRuntimeGenAI\0sdkVersion\0";
  const auto* base = static_cast<const char*>(map);
  const void* hit = memmem(base, size, marker, sizeof(marker) - 1);
  std::string version;
  if (hit) {
    const char* p = static_cast<const char*>(hit) + sizeof(marker) - 1;
    while (p < base + size && *p && version.size() < 32) version += *p++;
  }
  munmap(map, size);
  return version;
}

std::string LoadOrt(const std::string& path) {
  bool exported = false;
  std::string err = ElfExports(path, "OrtGetApiBase", &exported);
  if (!err.empty()) return "could not load ONNX Runtime: " + err;
  if (!exported) return path + " is not an ONNX Runtime library (it does not export OrtGetApiBase)";
  void* ort = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!ort) return "could not load ONNX Runtime from " + path + ": " + DlError();
  if (!dlopen(kOrtSoname, RTLD_NOW | RTLD_NOLOAD)) {
    dlclose(ort);
    return "ONNX Runtime at " + path + " was loaded, but ORT-GenAI looks for it as '" + kOrtSoname +
           "' and the loaded library has a different soname; point ORT_LIB_PATH at a build whose soname is " +
           kOrtSoname;
  }
  return "";
}

std::string LoadGenAI(const std::string& path) {
  bool exported = false;
  std::string err = ElfExports(path, "OgaCreateModel", &exported);
  if (!err.empty()) return "could not load ORT-GenAI: " + err;
  if (!exported) {
    return "wrong ORT-GenAI library at " + path +
           ": it does not export OgaCreateModel (this package needs ONNX Runtime GenAI 0.15 or newer)";
  }
  void* genai = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!genai) return "could not load ORT-GenAI from " + path + ": " + DlError();
  Api table;
#define OGA_RESOLVE(name)                                                                                    \
  table.name = reinterpret_cast<decltype(table.name)>(dlsym(genai, #name));                                \
  if (!table.name) {                                                                                       \
    dlclose(genai);                                                                                        \
    return "wrong ORT-GenAI version at " + path + ": it does not export " #name                            \
           " (this package needs ONNX Runtime GenAI 0.15 or newer)";                                        \
  }
  OGA_API_FUNCTIONS(OGA_RESOLVE)
#undef OGA_RESOLVE
#define OGA_RESOLVE_OPTIONAL(name, ...) table.name = reinterpret_cast<decltype(table.name)>(dlsym(genai, #name));
  OGA_ENGINE_FUNCTIONS(OGA_RESOLVE_OPTIONAL)
  OGA_ENGINE_STEP_FUNCTIONS(OGA_RESOLVE_OPTIONAL)
  OGA_ENGINE_EVENT_FUNCTIONS(OGA_RESOLVE_OPTIONAL)
#undef OGA_RESOLVE_OPTIONAL
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
  loaded_genai_version = ReadGenAIVersion(genai_path);
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

std::string LoadedGenAIVersion() {
  std::lock_guard<std::mutex> lock(load_mutex);
  return loaded_genai_version;
}

std::string GenAIVersionName() {
  std::string v = LoadedGenAIVersion();
  return v.empty() ? "(unknown version)" : v;
}

bool GenAIOlderThan(int major, int minor) {
  int have_major = 0, have_minor = 0;
  if (std::sscanf(LoadedGenAIVersion().c_str(), "%d.%d", &have_major, &have_minor) != 2) return true;
  return have_major < major || (have_major == major && have_minor < minor);
}

EngineApi EngineApiOf(std::string* missing) {
  // The first function of `list` the library lacks, or "".
  std::string common, step, events;
#define OGA_FIRST_MISSING(out, name, ...) \
  if (out.empty() && !api.name) out = #name;
#define OGA_COMMON(name) OGA_FIRST_MISSING(common, name)
#define OGA_STEP(name) OGA_FIRST_MISSING(step, name)
#define OGA_EVENTS(name, ...) OGA_FIRST_MISSING(events, name)
  OGA_ENGINE_FUNCTIONS(OGA_COMMON)
  OGA_ENGINE_STEP_FUNCTIONS(OGA_STEP)
  OGA_ENGINE_EVENT_FUNCTIONS(OGA_EVENTS)
#undef OGA_EVENTS
#undef OGA_STEP
#undef OGA_COMMON
#undef OGA_FIRST_MISSING
  if (common.empty() && step.empty()) return EngineApi::Step;
  if (common.empty() && events.empty()) return EngineApi::Events;
  *missing = !common.empty() ? common : step + " (0.15 Engine API) and " + events + " (0.16+ Engine API)";
  return EngineApi::None;
}

}  // namespace oga
