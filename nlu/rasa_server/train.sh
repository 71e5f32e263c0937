#!/usr/bin/env bash
# Train the Rasa NLU model from nlu/data + nlu/config.yml, unless a model for exactly this data is
# cached. Prints the model path as its last line.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="${RASA_VENV:-$ROOT/.rasa-venv}"
CACHE="${RASA_MODEL_CACHE:-$HOME/.cache/wenling-rasa}"
export RASA_TELEMETRY_ENABLED=false

# Jieba must know the annotated words, or Rasa drops misaligned entity annotations.
"${PYTHON:-python3}" nlu/rasa_server/jieba_words.py

# The cache key covers everything that shapes the model: data, pipeline, domain and jieba words.
HASH="$( { find nlu/data nlu/rasa_server/jieba_dict -type f | sort; echo nlu/config.yml; echo nlu/domain.yml; } \
    | while read -r f; do echo "$f"; cat "$f"; done | sha256sum | cut -c1-16)"
NAME="wenling-nlu-$HASH"
MODEL="$CACHE/$NAME.tar.gz"

if [ -f "$MODEL" ]; then
    echo "cached model for data hash $HASH" >&2
    echo "$MODEL"
    exit 0
fi
test -x "$VENV/bin/rasa" || bash "$ROOT/nlu/rasa_server/setup.sh" >&2
mkdir -p "$CACHE"
"$VENV/bin/rasa" train nlu --nlu nlu/data --config nlu/config.yml --domain nlu/domain.yml \
    --out "$CACHE" --fixed-model-name "$NAME" >&2
test -f "$MODEL"
echo "$MODEL"
