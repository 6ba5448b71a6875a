# Sourced by the scripts: one build folder outside the clone (reused between runs), the venv,
# and the Jupyter folders of this project (so tests never touch the user's own kernels).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rust-orm-lesson/target}"
export ORM_VENV="${ORM_VENV:-$root/.venv}"
export PATH="$ORM_VENV/bin:$PATH"
