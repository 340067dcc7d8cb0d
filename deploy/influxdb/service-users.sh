# Sourced once by the influxdb:1.x image at its first start (/docker-entrypoint-initdb.d), after it
# made the database (INFLUXDB_DB) and the administrator. Each aquawatch service gets its own user,
# with rights on that database only: ingest writes readings and reads meters back (PDA checks); the
# server reads and writes the derived series of analytics. Neither may create or drop databases,
# users or retention policies: the administrator is for operators, and no service has its password.
aquawatch_influx() {
  influx -host 127.0.0.1 -port "${INFLUXDB_INIT_PORT:-8086}" \
    -username "$INFLUXDB_ADMIN_USER" -password "$INFLUXDB_ADMIN_PASSWORD" -execute "$1"
}
aquawatch_influx "CREATE USER ingest WITH PASSWORD '$AQUAWATCH_INFLUX_INGEST_PASSWORD'"
aquawatch_influx "GRANT ALL ON \"$INFLUXDB_DB\" TO ingest"
aquawatch_influx "CREATE USER server WITH PASSWORD '$AQUAWATCH_INFLUX_SERVER_PASSWORD'"
aquawatch_influx "GRANT ALL ON \"$INFLUXDB_DB\" TO server"
