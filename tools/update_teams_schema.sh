#!/usr/bin/env bash
# Re-vendor the Teams app manifest schema (and its localization schema) from the npm package
# @microsoft/app-manifest into manifest/schemas/teams/, and rewrite manifest/schemas/teams/SOURCE.md.
#
# Why vendored: the packager (bot/package.py) and tests/test_manifest.py validate offline, and
# developer.microsoft.com is not reachable from CI. The npm package bundles every published schema,
# so installing one pinned version gives a reproducible copy.
#
# Usage: tools/update_teams_schema.sh [PACKAGE_VERSION] [SCHEMA_VERSION]
#        (defaults: 1.1.2 and 1.30). Needs npm and network access to the npm registry.
# After changing SCHEMA_VERSION also change manifestVersion and $schema in manifest/manifest.template.json
# and the pin in tools/manifest-check/package.json, then run the tests.
set -euo pipefail

PACKAGE="@microsoft/app-manifest"
PACKAGE_VERSION="${1:-1.1.2}"
SCHEMA_VERSION="${2:-1.30}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/manifest/schemas/teams"
INNER="build/json-schemas/teams/v${SCHEMA_VERSION}"
FILES=(MicrosoftTeams.schema.json MicrosoftTeams.Localization.schema.json)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(
  cd "$WORK"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --ignore-scripts "${PACKAGE}@${PACKAGE_VERSION}" >/dev/null
)
PKG_DIR="$WORK/node_modules/$PACKAGE"
INSTALLED="$(node -p "require('$PKG_DIR/package.json').version")"
LICENSE_FIELD="$(node -p "require('$PKG_DIR/package.json').license")"
REPOSITORY="$(node -p "(require('$PKG_DIR/package.json').repository || {}).url || ''")"
INTEGRITY="$(node -p "require('$WORK/package-lock.json').packages['node_modules/$PACKAGE'].integrity")"

if [[ "$INSTALLED" != "$PACKAGE_VERSION" ]]; then
  echo "npm installed $PACKAGE $INSTALLED, expected $PACKAGE_VERSION" >&2
  exit 1
fi
for file in "${FILES[@]}"; do
  if [[ ! -f "$PKG_DIR/$INNER/$file" ]]; then
    echo "$PACKAGE@$PACKAGE_VERSION has no $INNER/$file (bundled: $(ls "$PKG_DIR/build/json-schemas/teams" | tr '\n' ' '))" >&2
    exit 1
  fi
done

mkdir -p "$DEST"
for file in "${FILES[@]}"; do
  cp "$PKG_DIR/$INNER/$file" "$DEST/$file"
done

{
  echo "# Vendored Teams app manifest schemas"
  echo
  echo "Data, not code: copied unchanged by \`tools/update_teams_schema.sh\` (rerun it to refresh; do not edit by hand)."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| Package | npm \`$PACKAGE\` |"
  echo "| Version | $INSTALLED (tarball integrity \`$INTEGRITY\`) |"
  echo "| Repository | $REPOSITORY |"
  echo "| Licence | $LICENSE_FIELD (the package's \`license\` field; the tarball ships no LICENSE file) |"
  echo "| Manifest schema version | v$SCHEMA_VERSION |"
  echo "| Published upstream at | https://developer.microsoft.com/json-schemas/teams/v$SCHEMA_VERSION/ |"
  echo
  echo "| File here | Path inside the package | SHA-256 |"
  echo "|---|---|---|"
  for file in "${FILES[@]}"; do
    echo "| \`$file\` | \`$INNER/$file\` | \`$(sha256sum "$DEST/$file" | cut -d' ' -f1)\` |"
  done
  echo
  echo "Both files declare JSON Schema draft-04, yet the manifest schema also uses \`const\` (for"
  echo "\`manifestVersion\`) and \`if\`/\`then\`, which draft-04 does not define. The package validates with"
  echo "Ajv's draft-04 mode, which enforces them anyway, so \`bot/package.py\` validates with jsonschema's"
  echo "Draft4Validator extended with \`const\` and \`if\`/\`then\`/\`else\` to check the same things."
} >"$DEST/SOURCE.md"

echo "vendored $PACKAGE@$INSTALLED teams v$SCHEMA_VERSION into ${DEST#"$ROOT"/}"
