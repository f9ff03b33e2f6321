#!/usr/bin/env bash
# Build the one-folder desktop bundle from this checkout, smoke-test it, print its size and start time.
# Usage: bash packaging/build.sh            -> dist/ops-console/ (run dist/ops-console/ops-console)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}  # the analysis imports Qt; no display needed
BUILD="$ROOT/build/bundle"
rm -rf "$BUILD" "$ROOT/dist/ops-console"
python3 -m venv "$BUILD/venv"
"$BUILD/venv/bin/pip" install -q --upgrade pip
"$BUILD/venv/bin/pip" install -q "$ROOT" "pyinstaller>=6.5"
"$BUILD/venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --workpath "$BUILD/work" --distpath "$ROOT/dist" "$ROOT/packaging/ops-console.spec"
"$BUILD/venv/bin/pip" wheel -q --no-deps -w "$ROOT/dist" "$ROOT"

BIN="$ROOT/dist/ops-console/ops-console"
SIZE=$(du -sh "$ROOT/dist/ops-console" | cut -f1)
VERSION=$("$BIN" --version)
SHOTS=$(mktemp -d)
# Timings with Python (no extra tools needed): process start to exit for --version, and a full screenshot run.
read -r START RUN < <(python3 - "$BIN" "$SHOTS" <<'PY'
import os, subprocess, sys, time
binary, shots = sys.argv[1], sys.argv[2]
t = time.perf_counter(); subprocess.run([binary, "--version"], check=True, capture_output=True)
start = time.perf_counter() - t
env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OPS_CONSOLE_HOME": os.path.join(shots, "home")}
t = time.perf_counter(); subprocess.run([binary, "screenshot", "--out", shots], check=True, capture_output=True, env=env)
print(f"{start:.2f} {time.perf_counter() - t:.1f}")
PY
)
COUNT=$(ls "$SHOTS"/*.png | wc -l)
echo "bundle: $ROOT/dist/ops-console ($SIZE), $VERSION"
echo "start to --version: ${START} s; screenshot run (demo data + every panel): ${RUN} s, $COUNT PNGs in $SHOTS"
echo "wheel: $(ls "$ROOT"/dist/*.whl)"
[ "$COUNT" -ge 8 ] || { echo "smoke test failed: only $COUNT screenshots"; exit 1; }
