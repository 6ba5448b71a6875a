#!/usr/bin/env bash
# The grader's pages as a reader sees them: grades a small class (full, blank, broken) with the
# real grader, writes the feedback pages and the class report, then opens them in headless
# Chromium (tests/browser/check_pages.mjs). Screenshots are kept as artifacts in
# $CARGO_TARGET_DIR/browser-artifacts/ (feedback.png, report.png, and the pages themselves).
# Assumes the release build of tests/run.sh and `bash tests/setup.sh` (chromium, playwright-core).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$root"
grader="$CARGO_TARGET_DIR/release/grader"
artifacts="$CARGO_TARGET_DIR/browser-artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$artifacts"
mkdir -p "$artifacts"
python tests/browser/make_submissions.py "$root" "$work/submissions"
"$grader" batch "$work/submissions" --quiet --jobs 2 --per-test \
  --results-dir "$work/results" --feedback "$artifacts/feedback"
"$grader" report "$work/results" -o "$artifacts/report.html"
node tests/browser/check_pages.mjs "$artifacts/feedback/broken.html" "$artifacts/report.html" "$artifacts"
