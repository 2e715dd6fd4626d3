#!/bin/sh
# Creates the buckets BUCKETS names (a bucket is a folder: usable at once, though ListBuckets
# does not show it), then serves them over S3 on :7070.
set -eu
: "${ROOT_ACCESS_KEY_ID:?set the root access key}"
: "${ROOT_SECRET_ACCESS_KEY:?set the root secret key}"
for bucket in ${BUCKETS:-}; do
    mkdir -p "/store/buckets/$bucket"
done
mkdir -p /store/buckets /store/meta
exec /usr/local/bin/versitygw --port :7070 --quiet posix --sidecar /store/meta /store/buckets "$@"
