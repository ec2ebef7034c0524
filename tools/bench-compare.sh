#!/usr/bin/env bash
# Runs one benchmark tool on two commits in the same session, alternating baseline and candidate, so the noise of a
# shared machine falls on both alike. Compare each run's figures with its neighbours, not with older sessions.
#
#   tools/bench-compare.sh BASELINE ROUNDS TOOL [TOOL ARGUMENTS...]
#   tools/bench-compare.sh 63a8a13 3 bench-foundation
#   tools/bench-compare.sh 63a8a13 3 bench-scaleout --workers 1,2 --samples 100
#
# BASELINE is any commit (checked out into a temporary worktree); the candidate is this checkout as it is, uncommitted
# changes included. Both are built in Release first. Output: each run's full output under a header naming the code
# and the time, in the order run (baseline first).
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,11p "$0"; exit 2; }
baseline=$1 rounds=$2 tool=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$root/tools/$tool" ] || { echo "No tool named $tool under tools/." >&2; exit 2; }

base_tree=$(mktemp -d "${TMPDIR:-/tmp}/bench-baseline.XXXXXX")
trap 'git -C "$root" worktree remove --force "$base_tree" >/dev/null 2>&1 || rm -rf "$base_tree"' EXIT
git -C "$root" worktree add --detach "$base_tree" "$baseline" >/dev/null
[ -d "$base_tree/tools/$tool" ] || { echo "$baseline has no tools/$tool." >&2; exit 2; }

for tree in "$base_tree" "$root"; do
  echo "Building tools/$tool in $tree ($(git -C "$tree" rev-parse --short HEAD))" >&2
  dotnet build -c Release "$tree/tools/$tool" -v quiet -nologo >&2
done

run() {
  local label=$1 tree=$2
  echo "=== $label $(git -C "$tree" rev-parse --short HEAD) · $(date -u '+%Y-%m-%d %H:%M:%S UTC') · load $(cut -d' ' -f1-3 /proc/loadavg)"
  # The tools find models/ and their data relative to the working directory, as `dotnet run` from the root does.
  (cd "$tree" && dotnet run -c Release --no-build --project "tools/$tool" -- "$@")
  echo
}

for ((round = 1; round <= rounds; round++)); do
  run baseline "$base_tree" "$@"
  run candidate "$root" "$@"
done
