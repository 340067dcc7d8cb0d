#!/bin/sh
# compose's `init` service: runs as root before every other service, at every `docker compose up`.
#  1. TLS: the internal CA and the certificates of the dashboard, the PDA API and Mosquitto, made
#     once (deploy/init/certificates.sh); AQUAWATCH_HOSTNAMES adds the names users reach the site by.
#  2. Mosquitto's passwd and ACL, regenerated from the environment every time (`aquawatch broker-auth`),
#     so a changed MQTT_PASSWORD or a device added in config.yaml applies at the next `up`.
#  3. Owners: the aquawatch services run as `node`, Mosquitto as `mosquitto` (uid 1883); volumes made
#     by an older release (root-owned) are handed over.
set -eu
# commas or spaces between names
hostnames=$(echo "${AQUAWATCH_HOSTNAMES:-}" | tr ',' ' ')
# shellcheck disable=SC2086 # one argument per name
sh /app/deploy/init/certificates.sh /tls $hostnames
node /app/bin/aquawatch.js broker-auth --config /etc/aquawatch/config.yaml --out /mosquitto-auth

chown node:node /tls/server.key /tls/server.crt
chown 1883:1883 /tls/mosquitto.key /tls/mosquitto.crt /mosquitto-auth/passwd /mosquitto-auth/acl
chmod 600 /mosquitto-auth/passwd /mosquitto-auth/acl
chmod 644 /tls/ca.crt
for volume in /volumes/*; do chown -R node:node "$volume"; done
echo "init: done"
