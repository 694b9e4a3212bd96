#!/usr/bin/env bash
# Give the app that reads your tenant what SMTP AUTH Readiness needs, with the Azure CLI (az), then
# grant admin consent and assign the Entra role Exchange Online asks for. Run it as a Global
# Administrator (or Privileged Role Administrator) after `az login --tenant <your tenant>`:
#
#   deploy/grant-permissions.sh <application (client) id>
#
# It only adds read permissions; running it twice changes nothing. `python -m bot setup` then checks
# each one against the tenant. The lists below are the bot's own (bot/m365/permissions.py; a test
# keeps them equal).
set -euo pipefail

APP_ID="${1:?usage: $0 <application (client) id of the app that reads the tenant>}"
GRAPH_API="00000003-0000-0000-c000-000000000000"     # Microsoft Graph
EXCHANGE_API="00000002-0000-0ff1-ce00-000000000000"  # Office 365 Exchange Online
GRAPH_PERMISSIONS="ServiceMessage.Read.All ServiceHealth.Read.All Policy.Read.All AuditLog.Read.All User.Read.All"
EXCHANGE_PERMISSIONS="Exchange.ManageAsApp"
ENTRA_ROLE="Global Reader"

role_id() {  # the id of application permission $2 of API $1, looked up by name (ids are the same everywhere)
  az ad sp show --id "$1" --query "appRoles[?value=='$2' && contains(allowedMemberTypes, 'Application')].id | [0]" -o tsv
}

add_permissions() {  # API, then permission names
  local api="$1"; shift
  local grants=()
  for permission in "$@"; do
    local id
    id="$(role_id "$api" "$permission")"
    [ -n "$id" ] || { echo "no application permission $permission on $api" >&2; exit 1; }
    grants+=("$id=Role")
    echo "adding $permission"
  done
  az ad app permission add --id "$APP_ID" --api "$api" --api-permissions "${grants[@]}" --only-show-errors
}

# shellcheck disable=SC2086  # the lists are space-separated on purpose
add_permissions "$GRAPH_API" $GRAPH_PERMISSIONS
# shellcheck disable=SC2086
add_permissions "$EXCHANGE_API" $EXCHANGE_PERMISSIONS

# The app needs a service principal in this tenant before consent and role assignment.
az ad sp show --id "$APP_ID" --query id -o tsv >/dev/null 2>&1 || az ad sp create --id "$APP_ID" --only-show-errors >/dev/null
echo "granting admin consent"
az ad app permission admin-consent --id "$APP_ID" --only-show-errors

SP_ID="$(az ad sp show --id "$APP_ID" --query id -o tsv)"
ROLE_ID="$(az rest --method GET \
  --url "https://graph.microsoft.com/v1.0/roleManagement/directory/roleDefinitions?\$filter=displayName eq '$ENTRA_ROLE'" \
  --query "value[0].id" -o tsv)"
if az rest --method GET \
  --url "https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments?\$filter=principalId eq '$SP_ID' and roleDefinitionId eq '$ROLE_ID'" \
  --query "value[0].id" -o tsv | grep -q .; then
  echo "$ENTRA_ROLE already assigned"
else
  echo "assigning the Entra role $ENTRA_ROLE"
  az rest --method POST --url "https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments" \
    --headers "Content-Type=application/json" \
    --body "{\"principalId\": \"$SP_ID\", \"roleDefinitionId\": \"$ROLE_ID\", \"directoryScopeId\": \"/\"}" >/dev/null
fi
echo "done: now run  python -m bot setup  to check each permission against the tenant"
