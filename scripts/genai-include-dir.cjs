#!/usr/bin/env node
// Prints the directory holding ort_genai_c.h, for binding.gyp and test/native/binding.gyp. The header is
// platform-independent and resolved like any dependency (so it also works when this package is installed under
// another project), from the first package that has it: the per-platform runtime package (include/), then the
// Unity package, which ships it only inside its iOS framework.
const path = require('node:path');
const fs = require('node:fs');

const CANDIDATES = [
  [`@ortgenai-node/runtime-${process.platform}-${process.arch}`, 'include'],
  ['com.github.asus4.onnxruntime-genai', 'Plugins/iOS~/onnxruntime-genai.xcframework/ios-arm64/onnxruntime-genai.framework/Headers'],
];

const tried = [];
for (const [name, sub] of CANDIDATES) {
  let root;
  try {
    root = path.dirname(require.resolve(`${name}/package.json`, { paths: [path.join(__dirname, '..')] }));
  } catch {
    tried.push(`${name} (not installed)`);
    continue;
  }
  const dir = path.join(root, sub);
  if (fs.existsSync(path.join(dir, 'ort_genai_c.h'))) {
    process.stdout.write(dir);
    process.exit(0);
  }
  tried.push(dir);
}
console.error(`ort_genai_c.h not found; looked in: ${tried.join(', ')}`);
process.exit(1);
