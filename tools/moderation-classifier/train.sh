#!/bin/sh
# Rebuilds the prompt classifier: regenerates the template corpus, then trains on it plus any labelled TSVs given
# (same format as corpus.tsv, e.g. the reviewed-decisions export) and writes models/moderation/prompt-classifier.onnx,
# models/moderation/prompt-classifier.json and tools/moderation-classifier/test_vectors.json.
# Usage: sh tools/moderation-classifier/train.sh [extra.tsv ...]
set -eu
here=$(dirname "$0")
/usr/bin/python3 "$here/make_corpus.py"
exec /usr/bin/python3 -W ignore "$here/train.py" "$@"
