{
  # The one build of the addon: `npm run build:native`, the install script (node-gyp-build, when no prebuild
  # matches) and `npm run prebuildify` (release, also run by prepack) all run node-gyp on this file. node-gyp ships
  # with npm, so an installed package can rebuild itself without our devDependencies.
  # No link-time dependency on ONNX Runtime or ORT-GenAI: native/core/runtime.cc dlopens them.
  "targets": [
    {
      "target_name": "ortgenai",
      "sources": [
        "native/addon.cc",
        "native/adapters.cc",
        "native/config.cc",
        "native/engine.cc",
        "native/engine_request.cc",
        "native/engine_event_loop.cc",
        "native/engine_loop.cc",
        "native/engine_step_loop.cc",
        "native/generator.cc",
        "native/generator_params.cc",
        "native/logging.cc",
        "native/model.cc",
        "native/tensor.cc",
        "native/token_loop.cc",
        "native/token_sink.cc",
        "native/tokenizer.cc",
        "native/tokenizer_stream.cc",
        "native/core/args.cc",
        "native/core/errors.cc",
        "native/core/executor.cc",
        "native/core/runtime.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node scripts/genai-include-dir.cjs)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
