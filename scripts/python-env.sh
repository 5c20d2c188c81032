#!/usr/bin/env bash
# Creates the Python test environment in .cache/python/venv from test/python/requirements.txt, or reuses it
# when its stamp says it was made from the same lock by the same interpreter. Used by `npm test` and .ci/run.
# Prints the venv's python path on stdout; progress goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lock="$root/test/python/requirements.txt"
venv="$root/.cache/python/venv"
python=${ORTGENAI_TEST_PYTHON:-python3}

command -v "$python" >/dev/null || { echo "python-env: '$python' not found; install Python 3.11 (with venv) or set ORTGENAI_TEST_PYTHON" >&2; exit 1; }
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The lock pins cp311 wheels (torch's CPU build among them).
[ "$version" = 3.11 ] || { echo "python-env: the lock is for Python 3.11, '$python' is $version; set ORTGENAI_TEST_PYTHON to a 3.11 interpreter" >&2; exit 1; }

want=$({ sha256sum < "$lock"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
stamp="$venv/.stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "$venv/bin/python"
  exit 0
fi

echo "python-env: creating $venv from test/python/requirements.txt (a few minutes, once)" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
# --no-deps: the lock is complete (see its header for the one declared requirement it leaves out).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: -r "$lock" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }
echo "$want" > "$stamp"
echo "$venv/bin/python"
