#!/usr/bin/env bash
# Restore a backup made by backup.sh into an EMPTY data directory (and database).
# Stop the service first. Usage: restore.sh BACKUP_DIR
set -euo pipefail
src=${1:?usage: restore.sh BACKUP_DIR}
data=${ECOWATCH_DATA_DIR:-/var/lib/ecowatch}
mkdir -p "$data"
if [[ -n "$(ls -A "$data" 2>/dev/null)" ]]; then
  echo "refusing: $data is not empty" >&2
  exit 1
fi
tar -C "$data" -xzf "$src/snapshots.tar.gz"
[[ -f "$src/ecowatch.db" ]] && cp "$src/ecowatch.db" "$data/ecowatch.db"
url=${ECOWATCH_DATABASE_URL:-}
if [[ "$url" == postgresql* && -f "$src/postgres.dump" ]]; then
  pg_restore --clean --if-exists --no-owner --dbname="${url/+psycopg/}" "$src/postgres.dump"
fi
echo "restored $src into $data"
