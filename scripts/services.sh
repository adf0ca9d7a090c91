#!/usr/bin/env bash
# Make sure the test databases answer: PostgreSQL on 127.0.0.1:5432 (trust auth, database
# `test`) and MariaDB on 127.0.0.1:3306 (root, empty password, database `test`). Starts them
# with the machine's own service commands when they are down.
set -euo pipefail

wait_for() { # NAME CHECK...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "$name is up"; return 0; fi
    sleep 1
  done
  echo "$name did not come up on time" >&2
  return 1
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
mariadb_up() { mariadb-admin -h 127.0.0.1 -P 3306 -u root ping; }

if ! postgres_up >/dev/null 2>&1; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
wait_for PostgreSQL postgres_up
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test"

# The PostgreSQL plugin's tests log in with each password method as its own role; every
# other connection from 127.0.0.1 stays on trust. The lines go first: pg_hba.conf's first
# match wins.
hba=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "SHOW hba_file")
if ! grep -q "qd_scram" "$hba"; then
  echo "adding the password-method test roles' lines to $hba"
  { printf 'host all qd_password 127.0.0.1/32 password\n'
    printf 'host all qd_md5 127.0.0.1/32 md5\n'
    printf 'host all qd_scram 127.0.0.1/32 scram-sha-256\n'
    cat "$hba"; } > "$hba.new"
  chown --reference="$hba" "$hba.new" && chmod --reference="$hba" "$hba.new"
  mv "$hba.new" "$hba"
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT pg_reload_conf()" >/dev/null
fi

if ! mariadb_up >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
wait_for MariaDB mariadb_up
mariadb -h 127.0.0.1 -P 3306 -u root -e "CREATE DATABASE IF NOT EXISTS test"
