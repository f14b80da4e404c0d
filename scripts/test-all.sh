#!/usr/bin/env bash
# Runs every suite and ends with one line "N passed, N failed" summing them all.
#  - static checks (each counts as one test): typecheck, lint
#  - jest unit + integration + fuzz (in parallel workers; fuzz attacks the built server as a child process)
#  - jest browser + compat (real Chromium; serially, one browser suite at a time)
#  - jest media (real Chromium + Janus + the server process) inside a private network namespace
#    (scripts/netns.sh; needs root), serially
# Exit status is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
passed=0
failed=0

check() { # name, command...
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); echo "== $name: ok"; else failed=$((failed + 1)); echo "== $name: FAILED"; fi
}

add_jest() { # json file
  local f=$1
  if [ -s "$f" ]; then
    local counts p fl
    counts=$(node -e 'const r=require(require("path").resolve(process.argv[1]));console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites)' "$f") \
      || { echo "could not read jest results from $f"; failed=$((failed + 1)); return; }
    read -r p fl <<< "$counts"
    passed=$((passed + p)); failed=$((failed + fl))
  else
    echo "jest wrote no results to $f"; failed=$((failed + 1))
  fi
}

check typecheck npx tsc --noEmit -p tsconfig.json
check lint npx eslint . --max-warnings 0

echo "== jest: unit + integration + fuzz"
rm -f .tmp/jest-fast.json
# Each jest run is bounded: a hang (an open handle, a stuck browser) fails the run instead of eating CI's
# budget; --forceExit is NOT used, so a leak still shows as a hang locally and as this timeout here.
timeout --kill-after=30 1200 npx jest --selectProjects unit integration fuzz --maxWorkers=2 --json --outputFile=.tmp/jest-fast.json
add_jest .tmp/jest-fast.json

echo "== jest: browser + compat (real Chromium)"
rm -f .tmp/jest-browser.json
timeout --kill-after=30 900 npx jest --selectProjects browser compat --runInBand --json --outputFile=.tmp/jest-browser.json
add_jest .tmp/jest-browser.json

echo "== jest: media (Chromium + Janus in a network namespace)"
rm -f .tmp/jest-media.json
timeout --kill-after=30 2400 bash scripts/netns.sh npx jest --selectProjects media --runInBand --json --outputFile=.tmp/jest-media.json
add_jest .tmp/jest-media.json

line="$passed passed, $failed failed"
echo "$line" > .tmp/summary.txt
echo "$line"
[ "$failed" -eq 0 ]
