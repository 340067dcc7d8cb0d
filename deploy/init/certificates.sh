#!/bin/sh
# The deployment's TLS files, made once: an internal certificate authority (ca.crt, the file to
# install on operator PCs and devices) and a certificate for each service that serves TLS, signed
# by it. A file already there is kept, so a site's own certificates (from its PKI) replace these by
# being copied over server.crt/server.key or mosquitto.crt/mosquitto.key.
#
#   certificates.sh DIR [HOSTNAME...]   HOSTNAMEs: extra names the dashboard is reached by
#
# Needs only openssl. Used by deploy/init/first-start.sh (compose) and by the production topology test.
set -eu
dir=$1
shift
mkdir -p "$dir"
cd "$dir"
days_ca=3650
# browsers refuse server certificates valid for more than 825 days even from a private CA
days_leaf=825

if [ ! -f ca.crt ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
    -days "$days_ca" -subj "/O=aquawatch/CN=aquawatch internal CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 600 ca.key
  echo "certificates: made the internal CA $dir/ca.crt"
fi

# issue NAME DNS-NAMES...: NAME.crt and NAME.key for a TLS server known by those names
issue() {
  name=$1
  shift
  [ -f "$name.crt" ] && [ -f "$name.key" ] && return 0
  sans="IP:127.0.0.1,IP:::1"
  for h in "$@"; do
    case "$h" in
      *[!0-9.]*) sans="$sans,DNS:$h" ;;
      *) sans="$sans,IP:$h" ;;
    esac
  done
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$sans" > "$name.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.csr" -subj "/O=aquawatch/CN=$name" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days_leaf" -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  chmod 600 "$name.key"
  echo "certificates: made $dir/$name.crt for $sans"
}

# dashboard (server) and PDA API (ingest): one certificate, the names compose and users reach them by
issue server localhost server ingest "$@"
issue mosquitto localhost mosquitto "$@"
