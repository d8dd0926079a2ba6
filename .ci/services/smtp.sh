# Sourced by .ci/run: MailDev, a real SMTP server with a REST API, for the
# mail adapter's tests.
# shellcheck shell=bash
# The mail tests deliver through it when FERRY_TEST_SMTP_URL is set and read
# back what arrived from FERRY_TEST_SMTP_API (MailDev's `GET /email`). MailDev
# comes from npm into a cache folder outside the work tree, on free loopback
# ports, and is stopped at exit.
MAILDEV_VERSION=2.2.1 # 2.x runs on Node 18+; 3.x wants Node 22.
MAILDEV_DIR="${FERRY_CI_CACHE:-$HOME/.cache/ferry-ci}/maildev-$MAILDEV_VERSION"
MAILDEV_BIN="$MAILDEV_DIR/node_modules/.bin/maildev"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Node.js is not installed: installing it from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x "$MAILDEV_BIN" ]; then
    echo "installing MailDev $MAILDEV_VERSION into $MAILDEV_DIR"
    mkdir -p "$MAILDEV_DIR"
    npm install --prefix "$MAILDEV_DIR" --no-audit --no-fund --loglevel=error "maildev@$MAILDEV_VERSION" >/dev/null
fi

# A port nothing listens on now (the kernel picks it; the small race until
# MailDev binds it is retried below).
maildev_free_port() {
    node -e 'const s = require("net").createServer();
             s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
# Whether MailDev's REST API answers.
maildev_up() {
    node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1))
                            .on("error", () => process.exit(1));' "$1/email" 2>/dev/null
}

MAILDEV_PID=
for _ in 1 2 3; do
    MAILDEV_SMTP_PORT=$(maildev_free_port)
    MAILDEV_WEB_PORT=$(maildev_free_port)
    MAILDEV_TMP=$(mktemp -d -t maildev.XXXXXX)
    MAILDEV_LOG="$MAILDEV_TMP/maildev.log"
    "$MAILDEV_BIN" --ip 127.0.0.1 --smtp "$MAILDEV_SMTP_PORT" --web-ip 127.0.0.1 --web "$MAILDEV_WEB_PORT" \
        --mail-directory "$MAILDEV_TMP/mail" >"$MAILDEV_LOG" 2>&1 &
    MAILDEV_PID=$!
    for _ in $(seq 1 60); do
        maildev_up "http://127.0.0.1:$MAILDEV_WEB_PORT" && break
        kill -0 "$MAILDEV_PID" 2>/dev/null || break
        sleep 0.5
    done
    if maildev_up "http://127.0.0.1:$MAILDEV_WEB_PORT"; then
        break
    fi
    echo "MailDev did not start; its log:" >&2
    cat "$MAILDEV_LOG" >&2
    kill "$MAILDEV_PID" 2>/dev/null || true
    wait "$MAILDEV_PID" 2>/dev/null || true
    rm -rf "$MAILDEV_TMP"
    MAILDEV_PID=
done
if [ -z "$MAILDEV_PID" ]; then
    echo "MailDev could not be started: refusing to run CI without it" >&2
    exit 1
fi
on_exit "kill $MAILDEV_PID 2>/dev/null; wait $MAILDEV_PID 2>/dev/null; rm -rf '$MAILDEV_TMP'"
# The default smtp:// mode, STARTTLS when offered: MailDev offers none, so
# this exercises the fallback to plain text that a local relay needs.
export FERRY_TEST_SMTP_URL="smtp://127.0.0.1:$MAILDEV_SMTP_PORT"
export FERRY_TEST_SMTP_API="http://127.0.0.1:$MAILDEV_WEB_PORT"
echo "FERRY_TEST_SMTP_URL=$FERRY_TEST_SMTP_URL"
echo "FERRY_TEST_SMTP_API=$FERRY_TEST_SMTP_API"
