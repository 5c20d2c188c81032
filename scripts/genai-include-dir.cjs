#!/usr/bin/env node
// Prints the directory holding ort_genai_c.h, for binding.gyp and test/native/binding.gyp. The C headers are
// platform-independent; the asus4 package ships them only inside its iOS framework, so we read them from there
// (resolved like any dependency, so it also works when this package is installed under another project).
const path = require('node:path');
const fs = require('node:fs');

const pkg = path.dirname(require.resolve('com.github.asus4.onnxruntime-genai/package.json', { paths: [path.join(__dirname, '..')] }));
const dir = path.join(pkg, 'Plugins', 'iOS~', 'onnxruntime-genai.xcframework', 'ios-arm64', 'onnxruntime-genai.framework', 'Headers');
if (!fs.existsSync(path.join(dir, 'ort_genai_c.h'))) {
  console.error(`ort_genai_c.h not found in ${dir}; is com.github.asus4.onnxruntime-genai installed?`);
  process.exit(1);
}
process.stdout.write(dir);
