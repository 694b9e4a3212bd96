// SMTP AUTH Readiness on Azure: the container on App Service for Linux, an Azure Bot with the Teams
// channel whose credential is a user-assigned managed identity (no bot secret anywhere), secrets in
// Key Vault read through Key Vault references, and optionally Azure Database for PostgreSQL.
// Deploy:  az deployment group create -g <group> -f deploy/azure/main.bicep -p @deploy/azure/main.parameters.json
// The README's "Deploy to Azure" section walks through it from an empty subscription.

targetScope = 'resourceGroup'

@description('Short lower-case name used to derive every resource name (3-12 letters or digits).')
@minLength(3)
@maxLength(12)
param name string

@description('Azure region of everything but the Azure Bot (which is global).')
param location string = resourceGroup().location

@description('Container image the web app runs, e.g. <registry>.azurecr.io/smtp-auth-readiness:1.0.0 (pushed with az acr build).')
param containerImage string

@description('Create an Azure Container Registry for the image (the web app pulls from it with its managed identity).')
param createRegistry bool = true

@description('App Service plan SKU (B1 is enough for one tenant; P0v3 or higher for production).')
param appServiceSku string = 'B1'

@description('Deploy Azure Database for PostgreSQL flexible server; false keeps SQLite under /home (one instance only).')
param deployPostgres bool = true

@description('PostgreSQL administrator login name.')
param postgresAdminLogin string = 'smtpbot'

@secure()
@description('PostgreSQL administrator password (letters and digits, 16+ characters); stored in Key Vault only.')
param postgresAdminPassword string = ''

@description('Application (client) ID of the app registration that reads your tenant (Graph and Exchange); empty = demo tenant.')
param graphClientId string = ''

@secure()
@description('Client secret of that app registration; stored in Key Vault only.')
param graphClientSecret string = ''

@description('Comma list of Entra object ids of the admins allowed to change settings, scan and subscribe.')
param adminUserIds string = ''

@description('en or ja: the language when Teams sends no locale.')
@allowed(['en', 'ja'])
param defaultLanguage string = 'en'

@description('IANA time zone when Teams sends none, e.g. Asia/Tokyo.')
param defaultTimezone string = 'UTC'

var suffix = uniqueString(resourceGroup().id, name)
var tenantId = subscription().tenantId
var vaultName = take('kv-${name}-${suffix}', 24)
var usePostgres = deployPostgres && !empty(postgresAdminPassword)
var useGraph = !empty(graphClientId) && !empty(graphClientSecret)
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}'
  location: location
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = if (createRegistry) {
  name: take('cr${name}${suffix}', 50)
  location: location
  sku: { name: 'Basic' }
  properties: { adminUserEnabled: false }
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (createRegistry) {
  name: guid(resourceGroup().id, name, identity.id, acrPull)
  scope: registry
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = if (usePostgres) {
  name: 'psql-${name}-${suffix}'
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }
}

resource postgresDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = if (usePostgres) {
  parent: postgres
  name: 'smtpbot'
}

// Public access limited to Azure services (the web app); TLS is required by the server and verified by the bot.
resource postgresFromAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2022-12-01' = if (usePostgres) {
  parent: postgres
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (usePostgres) {
  parent: vault
  name: 'database-url'
  properties: {
    value: 'postgresql://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${usePostgres ? postgres.properties.fullyQualifiedDomainName : 'none'}:5432/smtpbot?sslmode=verify-full'
  }
}

resource graphSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (useGraph) {
  parent: vault
  name: 'graph-client-secret'
  properties: { value: graphClientSecret }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: 'plan-${name}'
  location: location
  kind: 'linux'
  sku: { name: appServiceSku }
  properties: { reserved: true }
}

var baseSettings = [
  { name: 'WEBSITES_PORT', value: '3978' }
  { name: 'WEBSITES_ENABLE_APP_SERVICE_STORAGE', value: 'true' }
  { name: 'MicrosoftAppType', value: 'UserAssignedMSI' }
  { name: 'MicrosoftAppId', value: identity.properties.clientId }
  { name: 'MicrosoftAppTenantId', value: tenantId }
  { name: 'ALLOWED_TENANT_IDS', value: tenantId }
  { name: 'ADMIN_USER_IDS', value: adminUserIds }
  { name: 'DEFAULT_LANGUAGE', value: defaultLanguage }
  { name: 'DEFAULT_TIMEZONE', value: defaultTimezone }
  { name: 'LOG_FORMAT', value: 'json' }
  { name: 'PGSSLROOTCERT', value: '/etc/ssl/certs/ca-certificates.crt' }
  {
    name: 'DATABASE_URL'
    value: usePostgres ? '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/database-url/)' : 'sqlite+aiosqlite:////home/data/smtp-auth-readiness.db'
  }
]
var graphSettings = useGraph ? [
  { name: 'GRAPH_TENANT_ID', value: tenantId }
  { name: 'GRAPH_CLIENT_ID', value: graphClientId }
  { name: 'GRAPH_CLIENT_SECRET', value: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/graph-client-secret/)' }
] : []

resource site 'Microsoft.Web/sites@2023-12-01' = {
  name: 'app-${name}-${suffix}'
  location: location
  kind: 'app,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      linuxFxVersion: 'DOCKER|${containerImage}'
      acrUseManagedIdentityCreds: createRegistry
      acrUserManagedIdentityID: createRegistry ? identity.properties.clientId : null
      alwaysOn: appServiceSku != 'F1'
      healthCheckPath: '/readyz'
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      appSettings: concat(baseSettings, graphSettings)
    }
  }
  dependsOn: [vaultReader, registryPull, databaseUrlSecret, graphSecret, postgresDatabase]
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: 'bot-${name}-${suffix}'
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: 'SMTP AUTH Readiness'
    endpoint: 'https://${site.properties.defaultHostName}/api/messages'
    msaAppType: 'UserAssignedMSI'
    msaAppId: identity.properties.clientId
    msaAppTenantId: tenantId
    msaAppMSIResourceId: identity.id
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

@description('The bot\'s Microsoft App ID: give it to python -m bot.package --app-id.')
output botAppId string = identity.properties.clientId
@description('The host name for python -m bot.package --domain, and the messaging endpoint\'s host.')
output hostName string = site.properties.defaultHostName
@description('The registry to push the image to (az acr build --registry ...).')
output registryName string = createRegistry ? registry.name : ''
@description('The web app, for az webapp restart and az webapp log tail.')
output webAppName string = site.name
