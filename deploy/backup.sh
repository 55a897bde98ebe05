#!/usr/bin/env bash
# Back up ecowatch: the data directory (SQLite file via its online backup API, snapshots) and,
# when ECOWATCH_DATABASE_URL points at PostgreSQL, a pg_dump. Usage: backup.sh DEST_DIR
set -euo pipefail
dest=${1:?usage: backup.sh DEST_DIR}
data=${ECOWATCH_DATA_DIR:-/var/lib/ecowatch}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$dest/$stamp"
mkdir -p "$out"
if [[ -f "$data/ecowatch.db" ]]; then
  # sqlite3's .backup is consistent while the service writes (WAL); a plain copy is not.
  python3 - "$data/ecowatch.db" "$out/ecowatch.db" <<'PY'
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with dst:
    src.backup(dst)
PY
fi
tar -C "$data" -czf "$out/snapshots.tar.gz" --exclude='ecowatch.db*' .
url=${ECOWATCH_DATABASE_URL:-}
if [[ "$url" == postgresql* ]]; then
  pg_dump --format=custom --file="$out/postgres.dump" "${url/+psycopg/}"
fi
echo "backup written to $out"
