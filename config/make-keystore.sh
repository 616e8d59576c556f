#!/usr/bin/env bash
# Builds the PKCS#12 keystore for CareRelay attachments from your own CA, with openssl and keytool:
#   ca          the CA certificate (its key stays outside the keystore: keep ca.key offline)
#   signing     the signing key, certified by the CA (signs every attachment)
#   storage-1   the first storage key (attachments are encrypted to it at rest)
#
# usage: config/make-keystore.sh <output dir> "<organisation name>"
# The keystore password is taken from KEYSTORE_PASSWORD or generated into <output dir>/keystore-password.
# Then: carerelay.crypto.keystore=<output dir>/carerelay.p12, carerelay.crypto.keystore-password=<password>.
set -euo pipefail

out="${1:?usage: $0 <output dir> \"<organisation name>\"}"
org="${2:?usage: $0 <output dir> \"<organisation name>\"}"
umask 077
mkdir -p "$out"
cd "$out"
if [ -e carerelay.p12 ]; then
  echo "$out/carerelay.p12 exists already; to add a storage key see the README (rotating the storage key)" >&2
  exit 1
fi
password="${KEYSTORE_PASSWORD:-}"
if [ -z "$password" ]; then
  password="$(openssl rand -base64 24)"
  printf '%s\n' "$password" > keystore-password
fi
# the subject is passed with -subj; escape what openssl treats as separators
subject_org="$(printf '%s' "$org" | sed 's#[/\\=+,]#\\&#g')"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3650 \
  -subj "/CN=CareRelay CA/O=$subject_org" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout signing.key -out signing.csr \
  -subj "/CN=CareRelay signing/O=$subject_org" 2>/dev/null
printf 'keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > signing.ext
openssl x509 -req -in signing.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1825 -extfile signing.ext -out signing.pem 2>/dev/null

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout storage.key -out storage.pem -days 1825 \
  -subj "/CN=CareRelay storage/O=$subject_org" -addext "keyUsage=critical,keyAgreement" 2>/dev/null

openssl pkcs12 -export -name signing -inkey signing.key -in signing.pem -certfile ca.pem -passout "pass:$password" -out signing.p12
openssl pkcs12 -export -name storage-1 -inkey storage.key -in storage.pem -passout "pass:$password" -out storage.p12
for part in signing.p12 storage.p12; do
  keytool -importkeystore -noprompt -srckeystore "$part" -srcstoretype PKCS12 -srcstorepass "$password" \
    -destkeystore carerelay.p12 -deststoretype PKCS12 -deststorepass "$password" > /dev/null 2>&1
done
keytool -importcert -noprompt -alias ca -file ca.pem -keystore carerelay.p12 -storetype PKCS12 -storepass "$password" > /dev/null
rm -f signing.csr signing.ext signing.p12 storage.p12 signing.key storage.key ca.srl

echo "created $out/carerelay.p12 (aliases ca, signing, storage-1)"
echo "keep $out/ca.key offline; it is needed only to certify a new signing key"
