#!/usr/bin/env bash
# End-to-end tests with real Jupyter clients against the installed kernel. Assumes the release
# build of tests/run.sh. The kernelspec goes to a Jupyter folder of this build, not the user's.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
export JUPYTER_DATA_DIR="$CARGO_TARGET_DIR/jupyter"
kernel="$CARGO_TARGET_DIR/release/orm-kernel"
"$kernel" install --user
"$kernel" prepare
# tests/notebooks/test_postgres.py runs the notebooks with ORM_FEATURES=postgres: orm with its driver
# has a prepared folder of its own, built here once (minutes the first time) rather than in a cell.
if [ -n "${ORM_TEST_POSTGRES_URL:-}" ]; then
  ORM_FEATURES=postgres "$kernel" prepare
fi
echo "== kernel protocol and behaviour (jupyter_kernel_test, jupyter_client)"
(cd tests/kernel && python -m pytest -q)
echo "== notebooks through nbclient (on SQLite, and on the PostgreSQL server)"
python -m pytest -q tests/notebooks
echo "== the grader's pages in headless Chromium (screenshots in \$CARGO_TARGET_DIR/browser-artifacts)"
bash tests/browser/run.sh
echo "== the lesson in JupyterLab, headless Chromium (screenshot: \$CARGO_TARGET_DIR/browser/lesson-jupyterlab.png)"
python -m pytest -q -s tests/browser
