#!/usr/bin/env node
// Fills npm/runtime-<platform>/ (the per-platform runtime package) from the Unity packages this repository
// installs as dependencies: the two shared libraries, their licenses and third-party notices, and the ORT-GenAI
// C header. Run by that package's prepack, so `npm pack` there always packs what the dependencies hold.
//   node scripts/assemble-runtime-package.mjs linux-x64
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const require = createRequire(path.join(repo, 'package.json'));
const packageDir = (name) => path.dirname(require.resolve(`${name}/package.json`));

// What each platform's package holds, as [source package, path in it, path in the runtime package].
const LAYOUTS = {
  'linux-x64': (ort, genai) => [
    [ort, 'Plugins/Linux/x64/libonnxruntime.so', 'lib/libonnxruntime.so'],
    [genai, 'Plugins/Linux/x64/libonnxruntime-genai.so', 'lib/libonnxruntime-genai.so'],
    [ort, 'LICENSE', 'licenses/onnxruntime/LICENSE'],
    [ort, 'ThirdPartyNotices.txt', 'licenses/onnxruntime/ThirdPartyNotices.txt'],
    [genai, 'LICENSE', 'licenses/onnxruntime-genai/LICENSE'],
    [genai, 'ThirdPartyNotices.txt', 'licenses/onnxruntime-genai/ThirdPartyNotices.txt'],
    // The C header is platform-independent; the Unity package keeps it only in its iOS framework.
    [genai, 'Plugins/iOS~/onnxruntime-genai.xcframework/ios-arm64/onnxruntime-genai.framework/Headers/ort_genai_c.h', 'include/ort_genai_c.h'],
  ],
};

const platform = process.argv[2];
if (!LAYOUTS[platform]) {
  console.error(`usage: assemble-runtime-package.mjs <${Object.keys(LAYOUTS).join('|')}>`);
  process.exit(2);
}
const out = path.join(repo, 'npm', `runtime-${platform}`);
for (const dir of ['lib', 'include', 'licenses']) rmSync(path.join(out, dir), { recursive: true, force: true });
const files = LAYOUTS[platform](packageDir('com.github.asus4.onnxruntime'), packageDir('com.github.asus4.onnxruntime-genai'));
for (const [pkg, from, to] of files) {
  const source = path.join(pkg, from);
  if (!existsSync(source)) {
    console.error(`assemble-runtime-package: ${source} is missing; run npm install in ${repo} first`);
    process.exit(1);
  }
  mkdirSync(path.dirname(path.join(out, to)), { recursive: true });
  copyFileSync(source, path.join(out, to));
}
console.error(`assembled ${path.relative(repo, out)}: ${files.map(([, , to]) => to).join(', ')}`);
