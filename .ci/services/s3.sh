# Sourced by .ci/run: an S3-compatible server for the blob store's tests.
# shellcheck shell=bash
# S3: the blob store's tests run their S3 backend when FERRY_TEST_S3_ENDPOINT
# and FERRY_TEST_S3_BUCKET are set. moto's server mode (from PyPI) speaks the
# S3 API, multipart uploads and ranged reads included, and keeps everything
# in memory: start it on a free loopback port, make a bucket, and export
# where it is with the dummy credentials it accepts.
S3_HOST=127.0.0.1
if ! python3 -c 'import moto.server, boto3' >/dev/null 2>&1; then
    echo "moto is not installed: installing moto[server] from PyPI"
    python3 -m pip install -q 'moto[server]'
fi
S3_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
S3_LOG="${TMPDIR:-/tmp}/ferry-ci-moto-$$.log"
# moto_server, run through python3 so that no console-script shim is needed.
python3 -m moto.server -H "$S3_HOST" -p "$S3_PORT" >"$S3_LOG" 2>&1 &
S3_PID=$!
on_exit "kill $S3_PID 2>/dev/null; wait $S3_PID 2>/dev/null; rm -f '$S3_LOG'"

s3_up() {
    python3 -c "import urllib.request; urllib.request.urlopen('http://$S3_HOST:$S3_PORT/', timeout=1)" >/dev/null 2>&1
}
for _ in $(seq 1 60); do
    s3_up && break
    kill -0 "$S3_PID" 2>/dev/null || break
    sleep 0.5
done
if ! s3_up; then
    echo "moto's S3 server did not start; its log:" >&2
    tail -n 20 "$S3_LOG" >&2 || true
    echo "refusing to run CI without it" >&2
    exit 1
fi

export AWS_ACCESS_KEY_ID=ferry-ci
export AWS_SECRET_ACCESS_KEY=ferry-ci-secret
export AWS_REGION=us-east-1
export FERRY_TEST_S3_ENDPOINT="http://$S3_HOST:$S3_PORT"
export FERRY_TEST_S3_BUCKET=ferry-ci
python3 - <<'PY'
import os

import boto3

boto3.client("s3", endpoint_url=os.environ["FERRY_TEST_S3_ENDPOINT"]).create_bucket(
    Bucket=os.environ["FERRY_TEST_S3_BUCKET"]
)
PY
echo "FERRY_TEST_S3_ENDPOINT=$FERRY_TEST_S3_ENDPOINT FERRY_TEST_S3_BUCKET=$FERRY_TEST_S3_BUCKET (moto, pid $S3_PID, log $S3_LOG)"
