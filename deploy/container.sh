#!/bin/sh
# The one place that says how the bot is installed, started and probed in its container. The Dockerfile
# RUNs and CMDs this script; tests/test_container.py runs the same steps in a scratch folder (no Docker
# engine there) and checks that the bot then answers /healthz, so the two cannot drift apart.
#
#   container.sh install      a virtual environment at $VENV with requirements.txt, pinned
#   container.sh start        the bot in the foreground (PORT, HOST and every other setting from the environment)
#   container.sh healthcheck  exit 0 when http://127.0.0.1:$PORT/healthz answers 200
set -eu

APP_HOME="${APP_HOME:-$(cd "$(dirname "$0")/.." && pwd)}"
VENV="${VENV:-$APP_HOME/.venv}"
PYTHON="${PYTHON:-python3}"

case "${1:-}" in
  install)
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --no-input --disable-pip-version-check -r "$APP_HOME/requirements.txt"
    ;;
  start)
    cd "$APP_HOME"
    exec "$VENV/bin/python" app.py
    ;;
  healthcheck)
    exec "$VENV/bin/python" -c 'import os, sys, urllib.request
url = "http://127.0.0.1:%s/healthz" % os.environ.get("PORT", "3978")
try:
    sys.exit(0 if urllib.request.urlopen(url, timeout=5).status == 200 else 1)
except Exception:
    sys.exit(1)'
    ;;
  *)
    echo "usage: $0 install|start|healthcheck" >&2
    exit 2
    ;;
esac
