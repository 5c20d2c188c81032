#!/usr/bin/env node
// `npm test`: the pinned Python environment (scripts/python-env.sh creates it on first use), the vitest suite,
// then the pytest suite (test/python). Ends with one line, "N passed, N failed", counting both, and
// exits non-zero when anything failed or a runner could not report. Arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, '.cache');
mkdirSync(cache, { recursive: true });

function run(command, args, options = {}) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options }).status ?? 1;
}

function vitestCounts(report) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  // A file that fails to load has no assertions but still failed: count it once.
  const broken = r.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed')).length;
  return { passed: r.numPassedTests, failed: r.numFailedTests + broken, skipped: r.numPendingTests + r.numTodoTests };
}

function pytestCounts(report) {
  // JUnit XML: one <testsuite tests= failures= errors= skipped=> per session.
  const xml = readFileSync(report, 'utf8');
  const attr = (name) => [...xml.matchAll(new RegExp(`<testsuite\\b[^>]*\\b${name}="(\\d+)"`, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
  const failed = attr('failures') + attr('errors');
  const skipped = attr('skipped');
  return { passed: attr('tests') - failed - skipped, failed, skipped };
}

const totals = { passed: 0, failed: 0, skipped: 0 };
function add(counts) {
  for (const key of Object.keys(totals)) totals[key] += counts[key];
}

// The Python environment first: some vitest files use it too (the official runtime, Python peers).
const env = spawnSync('bash', [path.join(root, 'scripts', 'python-env.sh')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const python = env.status === 0 ? env.stdout.trim() : '';
if (!python) {
  console.error('run-tests: the Python test environment could not be set up; run `bash scripts/python-env.sh` to see why');
  totals.failed += 1;
}

/** One vitest pass; its counts go to the totals. Returns its exit status. */
function vitestPass(name, extraArgs, env) {
  const report = path.join(cache, `vitest-${name}.json`);
  rmSync(report, { force: true });
  console.log(`\n==> vitest on ${name}`);
  const status = run(process.execPath, [
    path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
    ...extraArgs, ...process.argv.slice(2),
  ], { env: { ...process.env, ...env } });
  if (existsSync(report)) add(vitestCounts(report));
  else {
    console.error(`run-tests: vitest (${name}) wrote no report (exit ${status})`);
    totals.failed += 1;
  }
  return status;
}

// The suite runs on both supported runtimes: the npm build of ORT-GenAI 0.15.2, and the official 0.18.0 wheel of
// the Python environment (ORTGENAI_PYTHON). The packed-package test runs once: it installs the tarball as a
// consumer does, with the npm runtime whatever this process uses.
let vitest = vitestPass('npm-0.15', [], { ORTGENAI_PYTHON: '' });
if (python) vitest = vitestPass('python-0.18', ['--exclude', 'test/package/**'], { ORTGENAI_PYTHON: python }) || vitest;

let pytest = 1;
if (python) {
  const pytestReport = path.join(cache, 'pytest-report.xml');
  rmSync(pytestReport, { force: true });
  pytest = run(python, ['-m', 'pytest', 'test/python', `--junitxml=${pytestReport}`, '-p', 'no:cacheprovider']);
  if (existsSync(pytestReport)) add(pytestCounts(pytestReport));
  else {
    console.error(`run-tests: pytest wrote no report (exit ${pytest})`);
    totals.failed += 1;
  }
}

console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(vitest === 0 && pytest === 0 && totals.failed === 0 ? 0 : 1);
