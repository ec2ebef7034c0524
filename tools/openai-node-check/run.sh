#!/usr/bin/env bash
# Drives a running BananaLab with the official OpenAI Node SDK and prints PASS/FAIL per call.
#
#   tools/openai-node-check/run.sh http://127.0.0.1:5080 bl_your_api_key [model]
#
# Installs the `openai` npm package (OPENAI_NODE_VERSION, default 7) into a temporary folder, so nothing is added to the
# repository, and runs check.mjs there. Exit status: 0 when every call passed.
set -euo pipefail
if [ $# -lt 2 ]; then sed -n 2,7p "$0"; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/openai-node-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/check.mjs" "$work/"
(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "openai@${OPENAI_NODE_VERSION:-7}" >/dev/null)
echo "openai (Node) $(node -p "require('$work/node_modules/openai/package.json').version") against $1"
cd "$work" && BASE_URL="$1" API_KEY="$2" MODEL="${3:-banana-nano}" node check.mjs
