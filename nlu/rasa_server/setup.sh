#!/usr/bin/env bash
# Build the Python 3.10 virtual environment Rasa 3.6 needs (it does not support 3.11).
# Idempotent: does nothing when rasa 3.6.21 and jieba are already importable in the venv.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${RASA_VENV:-$ROOT/.rasa-venv}"
PY310="${RASA_PYTHON:-/root/.pyenv/versions/3.10.13/bin/python3.10}"
command -v "$PY310" >/dev/null 2>&1 || PY310="$(command -v python3.10)"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, jieba  # noqa: F401
assert m.version("rasa") == "3.6.21"
PY
then
    echo "rasa 3.6.21 already installed in $VENV"
    exit 0
fi

"$PY310" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade "pip<24.1" "setuptools<70" wheel

"$VENV/bin/python" -m pip install --quiet "rasa==3.6.21" "jieba==0.42.1"
"$VENV/bin/rasa" --version
