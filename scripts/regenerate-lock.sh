#!/usr/bin/env bash
# Regenerates package-lock.json from the package.json files alone, in a scratch copy without node_modules,
# so the lock lists every platform's optional packages (npm leaves them out when it updates a lock from an
# existing node_modules, and `npm ci` then refuses the lock on a fresh clone).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
cd "$root"
git ls-files --cached --others --exclude-standard -- 'package.json' '*/package.json' | while read -r f; do
  mkdir -p "$scratch/$(dirname "$f")"; cp "$f" "$scratch/$f"
done
cd "$scratch" && npm install --package-lock-only --no-audit --no-fund >/dev/null
cp "$scratch/package-lock.json" "$root/package-lock.json"
echo "package-lock.json regenerated"
