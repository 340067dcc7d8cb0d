# Sourced once by the influxdb:1.x image at its first start (/docker-entrypoint-initdb.d), after it
# made the database (INFLUXDB_DB) and the administrator. Least privilege, one user per job:
#   ingest     WRITE on the readings ($INFLUXDB_DB): it cannot read them, nor touch derived series;
#   analytics  WRITE on the derived series (${INFLUXDB_DB}_derived), which the server computes:
#              it cannot write (forge) a reading;
#   reader     READ on both: the server's charts, reports and detectors, ingest's PDA checks.
# None may create or drop databases, users or retention policies: the administrator is for
# operators, and no service has its password.
aquawatch_influx() {
  influx -host 127.0.0.1 -port "${INFLUXDB_INIT_PORT:-8086}" \
    -username "$INFLUXDB_ADMIN_USER" -password "$INFLUXDB_ADMIN_PASSWORD" -execute "$1"
}
aquawatch_derived_db="${INFLUXDB_DB}_derived"
# Retention (review F24), on each database's default policy, which the services write and read:
# readings 400 days (a year-on-year KPI needs the same month a year back), derived series 800 days
# (they cannot be computed again once their readings are gone), as the embedded store keeps them.
# INF keeps everything. Runs at the first start only; README "Deployment" says how to change it later.
aquawatch_influx "ALTER RETENTION POLICY \"autogen\" ON \"$INFLUXDB_DB\" DURATION ${AQUAWATCH_INFLUX_READINGS_RETENTION:-400d} DEFAULT"
aquawatch_influx "CREATE DATABASE \"$aquawatch_derived_db\" WITH DURATION ${AQUAWATCH_INFLUX_DERIVED_RETENTION:-800d} NAME \"autogen\""
aquawatch_influx "CREATE USER ingest WITH PASSWORD '$AQUAWATCH_INFLUX_INGEST_PASSWORD'"
aquawatch_influx "GRANT WRITE ON \"$INFLUXDB_DB\" TO ingest"
aquawatch_influx "CREATE USER analytics WITH PASSWORD '$AQUAWATCH_INFLUX_ANALYTICS_PASSWORD'"
aquawatch_influx "GRANT WRITE ON \"$aquawatch_derived_db\" TO analytics"
aquawatch_influx "CREATE USER reader WITH PASSWORD '$AQUAWATCH_INFLUX_READER_PASSWORD'"
aquawatch_influx "GRANT READ ON \"$INFLUXDB_DB\" TO reader"
aquawatch_influx "GRANT READ ON \"$aquawatch_derived_db\" TO reader"
