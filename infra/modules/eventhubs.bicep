// Event Hubs namespace, the clicks hub with Capture to Blob Storage in Avro, and the aggregator's consumer group.
// Capture writes with the namespace's managed identity, because the storage account accepts no shared keys.
param namespaceName string
param location string
param tags object

@allowed([
  'Standard'
  'Premium'
])
param sku string
param capacity int
param maximumThroughputUnits int
param partitionCount int
param retentionDays int
param captureIntervalSeconds int
param storageAccountName string
param captureContainerName string

var eventHubName = 'clicks'
var consumerGroupName = 'aggregator'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var autoInflate = sku == 'Standard' && maximumThroughputUnits > capacity

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: sku
    tier: sku
    capacity: capacity
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    isAutoInflateEnabled: autoInflate
    maximumThroughputUnits: autoInflate ? maximumThroughputUnits : 0
  }
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource capture 'containers' existing = {
      name: captureContainerName
    }
  }
}

// Capture needs to write into the capture container, and nowhere else.
resource captureWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::capture.id, namespace.id, storageBlobDataContributor)
  scope: storageAccount::blobService::capture
  properties: {
    principalId: namespace.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: eventHubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: retentionDays
    captureDescription: {
      enabled: true
      encoding: 'Avro'
      intervalInSeconds: captureIntervalSeconds
      sizeLimitInBytes: 314572800
      skipEmptyArchives: true
      destination: {
        name: 'EventHubArchive.AzureBlockBlob'
        identity: {
          type: 'SystemAssigned'
        }
        properties: {
          storageAccountResourceId: storageAccount.id
          blobContainer: captureContainerName
          archiveNameFormat: '{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}'
        }
      }
    }
  }
  dependsOn: [
    captureWriter
  ]

  resource aggregator 'consumergroups' = {
    name: consumerGroupName
    properties: {
      userMetadata: 'AggregateClicks function'
    }
  }

  // MonitorPartitionLag reads the oldest unconsumed event of a lagging partition on its own group: the trigger's
  // processor holds exclusive (epoch) readers on 'aggregator', which a second reader there would conflict with.
  resource lagMonitor 'consumergroups' = {
    name: 'lagmonitor'
    properties: {
      userMetadata: 'MonitorPartitionLag function (reads one event per lagging partition)'
    }
  }
}

output namespaceName string = namespace.name
// serviceBusEndpoint is https://<namespace>.servicebus.<cloud suffix>:443/; the app wants the bare host name.
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output eventHubName string = hub.name
output consumerGroupName string = hub::aggregator.name
output monitorConsumerGroupName string = hub::lagMonitor.name
