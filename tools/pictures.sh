#!/usr/bin/env bash
# Regenerate the README pictures in docs/images/:
#   card-*.png        cards from the gallery (python -m cards.gallery), rendered by tools/render/render.mjs
#                     (Adaptive Cards JS renderer, Teams light host config, 480 px wide at 2x)
#   playground-*.png  the bot in the Microsoft 365 Agents Playground, from the e2e walk (tools/e2e)
#
#   tools/pictures.sh            # from the repository root; needs Node 20+, /usr/bin/chromium and
#                                # `npm ci` in tools/render and tools/e2e (see tools/e2e/README.md)
#
# Cards that do not exist (yet) are skipped with a note. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
OUT=docs/images
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT" "$WORK/cards" "$WORK/pick"

# picture name = gallery card (name.lang)
CARDS=(
  "card-status=status.en"
  "card-status-ja=status.ja"
  "card-readiness=readiness.en"
  "card-alert-countdown=alert-countdown.en"
  "card-alerts-settings=alerts-settings.en"
)

"$PYTHON" -m cards.gallery "$WORK/cards" >/dev/null
for entry in "${CARDS[@]}"; do
  card="${entry#*=}"
  if [[ -f "$WORK/cards/$card.json" ]]; then
    cp "$WORK/cards/$card.json" "$WORK/pick/"
  else
    echo "pictures: no gallery card $card (skipped)" >&2
  fi
done
# Exit 1 only means a card has renderer warnings (a Teams chart with its fallback, say): the e2e
# tests judge that; the pictures are written either way.
node tools/render/render.mjs --in "$WORK/pick" --out "$WORK/rendered" --widths 480 --scale 2 --no-show-cards \
  || [[ $? -eq 1 ]]
for entry in "${CARDS[@]}"; do
  name="${entry%%=*}" card="${entry#*=}"
  if [[ -f "$WORK/rendered/$card.480.png" ]]; then
    cp "$WORK/rendered/$card.480.png" "$OUT/$name.png"
  fi
done

# The Agents Playground: bot + Playground on loopback, walk.mjs in headless Chromium.
"$PYTHON" tools/e2e/stack.py --walk "$WORK/walk" >/dev/null
cp "$WORK/walk/03-status.png" "$OUT/playground-status.png"
cp "$WORK/walk/09-alerts-saved.png" "$OUT/playground-channel.png"

ls -l "$OUT"
