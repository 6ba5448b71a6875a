#!/usr/bin/env bash
# The container recipe's steps (Dockerfile and binder/postBuild both run binder/install.sh) in a
# clean folder, as a class server or Binder would: a copy of the repository's files (tracked and
# new, not ignored) in a temp folder, a fresh Python venv, `bash binder/install.sh`, then a check
# that the kernelspec it installed is the one Jupyter finds and that the kernel runs cells.
# Docker itself is not needed (nor run): the recipe is this script's steps plus the apt and
# toolchain lines of the Dockerfile, which tests/setup.sh covers.
#
# Reuses $CARGO_TARGET_DIR (tests/env.sh) with the suite's build arguments, so nothing is
# compiled again when the copy's files are as built (measured: cargo 0.5 s, the whole script
# 92 s, most of it pip installing JupyterLab into the fresh venv and the kernel's first start),
# and `orm-kernel prepare` finds orm prepared in the per-user cache (the key hashes orm's
# sources, not their folder). Run from .ci/run after the tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
started=$SECONDS
clean=$(mktemp -d)
trap 'rm -rf "$clean"' EXIT
echo "== container recipe: binder/install.sh in a clean copy of the repository"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
  [ -e "$file" ] && printf '%s\0' "$file"
done | tar --null -T - -cf - | tar -xf - -C "$clean/"
python3 -m venv "$clean/.venv"
# Only the venv's Jupyter: no user or test kernelspec may answer for the one the recipe installs.
export PATH="$clean/.venv/bin:$PATH" VIRTUAL_ENV="$clean/.venv"
export JUPYTER_DATA_DIR="$clean/jupyter-data" JUPYTER_CONFIG_DIR="$clean/jupyter-config"
unset JUPYTER_PATH
# The suite's build arguments (tests/run.sh): `-p orm-kernel` alone unifies dependency features
# differently, and cargo would compile evcxr and rust-analyzer's crates a second time.
(cd "$clean" && ORM_INSTALL_CARGO_ARGS="--workspace --all-targets --all-features" bash binder/install.sh)

spec=$(jupyter kernelspec list --json)
python3 - "$clean" "$spec" <<'EOF'
import json, sys
clean, spec = sys.argv[1], json.loads(sys.argv[2])
found = spec["kernelspecs"].get("rust-orm")
assert found, f"no rust-orm kernelspec where Jupyter looks: {sorted(spec['kernelspecs'])}"
assert found["resource_dir"].startswith(f"{clean}/.venv/"), found["resource_dir"]
print(f"kernelspec rust-orm in the venv: {found['resource_dir']}")
EOF

# The installed kernel runs cells through Jupyter's own client (nbclient, from binder's
# requirements): orm's prelude is in scope and a table renders as HTML.
python3 - <<'EOF'
import nbformat
from nbclient import NotebookClient

nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell(source) for source in [
    "6 * 7",
    'let engine = create_engine("sqlite:///:memory:")?;',
    'engine.execute(orm::core::text("SELECT 1 AS one"))?',
]]
NotebookClient(nb, kernel_name="rust-orm", timeout=600).execute()
results = [[o for o in cell.outputs if o["output_type"] == "execute_result"] for cell in nb.cells[::2]]
assert [len(r) for r in results] == [1, 1], [cell.outputs for cell in nb.cells]
first, table = (r[0]["data"] for r in results)
assert first["text/plain"] == "42", first
assert "<th>one</th>" in table.get("text/html", ""), table
print("the installed kernel ran 3 cells: 6 * 7 = 42, and a result table as HTML")
EOF
echo "== container recipe: ok in $((SECONDS - started)) s"
