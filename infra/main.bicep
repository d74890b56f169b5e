// ClickFunctions: the whole Azure deployment. Subscription scope: creates the resource group, then one module per
// concern. azd-compatible (azure.yaml, main.parameters.json); see docs/deploy.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
param location string

@description('Resource group name; empty means rg-<environmentName>.')
param resourceGroupName string = ''

@allowed([
  'Standard'
  'Premium'
])
@description('Event Hubs tier. Standard caps a throughput unit at 1 MB/s or 1,000 events/s of ingress.')
param eventHubsSku string = 'Standard'

@minValue(1)
@maxValue(40)
@description('Throughput units (Standard) or processing units (Premium). 12 TUs carry the 10k clicks/s seed with headroom.')
param eventHubsCapacity int = 12

@minValue(0)
@maxValue(40)
@description('Standard only: auto-inflate ceiling in throughput units; 0 turns auto-inflate off.')
param eventHubsMaximumThroughputUnits int = 20

@minValue(1)
@maxValue(32)
@description('Partitions of the clicks hub (fixed after creation on Standard). Each partition takes at most 1 MB/s or 1,000 events/s.')
param eventHubPartitionCount int = 32

@minValue(1)
@maxValue(7)
@description('Days Event Hubs keeps events for consumers; Capture keeps them longer in Blob Storage.')
param eventHubRetentionDays int = 3

@minValue(60)
@maxValue(900)
@description('Capture window in seconds; matches Reconcile__CaptureWindow.')
param captureIntervalSeconds int = 300

@minValue(1)
@description('Days Capture blobs and reconciliation reports are kept before the lifecycle rule deletes them.')
param captureRetentionDays int = 30

@description('ADX SKU. Dev(No SLA)_Standard_E2a_v4 is fine for trials; production wants an SLA SKU with two or more instances.')
@allowed([
  'Dev(No SLA)_Standard_E2a_v4'
  'Dev(No SLA)_Standard_D11_v2'
  'Standard_E2ads_v5'
  'Standard_E4ads_v5'
  'Standard_E8ads_v5'
  'Standard_E16ads_v5'
])
param kustoSkuName string = 'Standard_E2ads_v5'

// An SLA (Standard tier) ADX cluster runs at least 2 instances; a Dev(No SLA) SKU always runs 1, and the kusto module
// sets that itself whatever this parameter says.
@minValue(2)
@maxValue(1000)
@description('ADX instances of an SLA SKU, at least 2 (optimized autoscale ranges from this to 4 times this). Ignored for Dev(No SLA) SKUs, which run 1.')
param kustoCapacity int = 2

@minValue(40)
@maxValue(1000)
@description('Flex Consumption: most instances the app scales out to.')
param functionMaximumInstanceCount int = 100

@allowed([
  512
  2048
  4096
])
@description('Flex Consumption: memory per instance in MB.')
param functionInstanceMemoryMB int = 2048

@secure()
@minLength(32)
@description('Current click-signing key (HMAC-SHA256), at least 32 characters, for example `openssl rand -base64 48`.')
param clickSigningKey string

@description('Key id of the current click-signing key.')
param clickSigningKeyId string = 'k1'

@secure()
@description('Previous click-signing key, still accepted during rotation; empty means the current key.')
param clickSigningPreviousKey string = ''

@description('Key id of the previous click-signing key.')
param clickSigningPreviousKeyId string = 'k0'

@secure()
@minLength(32)
@description('Secret the app derives its daily IP-hash keys from.')
param fingerprintSecret string

@description('Client id of the Entra app registration that Easy Auth validates tokens for on the query routes; empty leaves those routes answering 401.')
param authClientId string = ''

@description('Entra object ids (comma-separated) that may call the admin API without the ClickFunctions.Admin app role; empty: the role only.')
param adminPrincipalIds string = ''

@description('E-mail address that receives alerts; empty creates the alerts without notifications.')
param alertEmail string = ''

@minValue(1000)
@description('Alert when the aggregator processes events later than this many milliseconds after they were enqueued.')
param aggregatorLagThresholdMs int = 60000

@minValue(0)
@description('Alert when one reconciliation run corrects more than this many clicks.')
param reconcileDriftThreshold int = 100

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'click-functions'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}clicks-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  params: {
    workspaceName: '${abbrs.operationalInsightsWorkspaces}clicks-${resourceToken}'
    appInsightsName: '${abbrs.insightsComponents}clicks-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}clicks${resourceToken}'
    location: location
    tags: tags
    captureRetentionDays: captureRetentionDays
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  scope: rg
  params: {
    namespaceName: '${abbrs.eventHubNamespaces}clicks-${resourceToken}'
    location: location
    tags: tags
    sku: eventHubsSku
    capacity: eventHubsCapacity
    maximumThroughputUnits: eventHubsMaximumThroughputUnits
    partitionCount: eventHubPartitionCount
    retentionDays: eventHubRetentionDays
    captureIntervalSeconds: captureIntervalSeconds
    storageAccountName: storage.outputs.name
    captureContainerName: storage.outputs.captureContainerName
  }
}

module kusto 'modules/kusto.bicep' = {
  scope: rg
  params: {
    clusterName: '${abbrs.kustoClusters}clicks${resourceToken}'
    location: location
    tags: tags
    skuName: kustoSkuName
    capacity: kustoCapacity
    appClientId: identity.outputs.clientId
    tenantId: tenant().tenantId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}clicks-${resourceToken}'
    location: location
    tags: tags
    clickSigningKey: clickSigningKey
    clickSigningPreviousKey: empty(clickSigningPreviousKey) ? clickSigningKey : clickSigningPreviousKey
    fingerprintSecret: fingerprintSecret
  }
}

module roles 'modules/roles.bicep' = {
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    eventHubsNamespaceName: eventHubs.outputs.namespaceName
    eventHubName: eventHubs.outputs.eventHubName
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

module functionApp 'modules/functionapp.bicep' = {
  scope: rg
  params: {
    planName: '${abbrs.webServerFarms}clicks-${resourceToken}'
    appName: '${abbrs.webSitesFunctions}clicks-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    captureContainerName: storage.outputs.captureContainerName
    reconciliationContainerName: storage.outputs.reconciliationContainerName
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    eventHubsNamespaceName: eventHubs.outputs.namespaceName
    eventHubName: eventHubs.outputs.eventHubName
    consumerGroupName: eventHubs.outputs.consumerGroupName
    monitorConsumerGroupName: eventHubs.outputs.monitorConsumerGroupName
    eventHubPartitionCount: eventHubPartitionCount
    captureWindow: '00:${padLeft(string(captureIntervalSeconds / 60), 2, '0')}:${padLeft(string(captureIntervalSeconds % 60), 2, '0')}'
    kustoClusterUri: kusto.outputs.clusterUri
    kustoDatabaseName: kusto.outputs.databaseName
    clickSigningKeyId: clickSigningKeyId
    clickSigningKeyUri: keyVault.outputs.clickSigningKeyUri
    clickSigningPreviousKeyId: clickSigningPreviousKeyId
    clickSigningPreviousKeyUri: keyVault.outputs.clickSigningPreviousKeyUri
    fingerprintSecretUri: keyVault.outputs.fingerprintSecretUri
    appInsightsName: monitoring.outputs.appInsightsName
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    authClientId: authClientId
    authTenantId: tenant().tenantId
    adminPrincipalIds: adminPrincipalIds
  }
  dependsOn: [
    roles // the host reads storage and Key Vault with the identity as soon as it starts
  ]
}

module dashboards 'modules/dashboards.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsName: monitoring.outputs.appInsightsName
    workbookDisplayName: 'Click aggregator (${environmentName})'
    actionGroupName: '${abbrs.insightsActionGroups}clicks-${resourceToken}'
    alertNamePrefix: '${abbrs.insightsScheduledQueryRules}clicks-${resourceToken}'
    alertEmail: alertEmail
    aggregatorLagThresholdMs: aggregatorLagThresholdMs
    reconcileDriftThreshold: reconcileDriftThreshold
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_EVENTHUBS_NAMESPACE string = eventHubs.outputs.fullyQualifiedNamespace
output AZURE_KUSTO_CLUSTER_URI string = kusto.outputs.clusterUri
output AZURE_KUSTO_DATABASE string = kusto.outputs.databaseName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
