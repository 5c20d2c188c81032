{
  # The C++ reference programs the addon is measured against, built with the same tool as the addon (node-gyp)
  # but never published: test/native/stepwise_reference.cc (test/genai/generator.test.ts) and
  # bench/native_loop.cc (`ortgenai bench`). Both reuse the addon's native/core/runtime.cc, so they load the runtime
  # libraries exactly as the addon does. `npm run build:reference` builds them into test/native/build/Release.
  "target_defaults": {
    "include_dirs": ["../../native/core", "<!(node ../../scripts/genai-include-dir.cjs)"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
    "libraries": ["-ldl", "-lpthread"]
  },
  "targets": [
    { "target_name": "stepwise_reference", "type": "executable", "sources": ["stepwise_reference.cc", "../../native/core/runtime.cc"] },
    { "target_name": "native_loop", "type": "executable", "sources": ["../../bench/native_loop.cc", "../../native/core/runtime.cc"] }
  ]
}
