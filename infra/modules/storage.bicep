// One storage account for the Functions host, the deployment package, Event Hubs Capture, reconciliation reports
// and the dedup claims table. Shared-key access is disabled: every client authenticates with Entra ID.
param name string
param location string
param tags object

@description('Days before Capture blobs and reconciliation reports are deleted.')
param captureRetentionDays int

var captureContainerName = 'capture'
var reconciliationContainerName = 'reconciliation'
var deadLetterContainerName = 'deadletters'
var deploymentContainerName = 'app-package'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    accessTier: 'Hot'
  }

  resource blobService 'blobServices' = {
    name: 'default'
    properties: {
      deleteRetentionPolicy: {
        enabled: true
        days: 7
      }
    }

    resource capture 'containers' = {
      name: captureContainerName
    }

    resource reconciliation 'containers' = {
      name: reconciliationContainerName
    }

    // Malformed events with their reason; kept (no lifecycle rule) until an operator has looked at them.
    resource deadLetters 'containers' = {
      name: deadLetterContainerName
    }

    resource deployment 'containers' = {
      name: deploymentContainerName
    }
  }

  // The claims table is created by the app on first use (CreateIfNotExists); the service just has to exist.
  resource tableService 'tableServices' = {
    name: 'default'
  }

  resource lifecycle 'managementPolicies' = {
    name: 'default'
    properties: {
      policy: {
        rules: [
          {
            name: 'expire-capture'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: {
                blobTypes: [
                  'blockBlob'
                ]
                prefixMatch: [
                  '${captureContainerName}/'
                  '${reconciliationContainerName}/'
                ]
              }
              actions: {
                baseBlob: {
                  delete: {
                    daysAfterModificationGreaterThan: captureRetentionDays
                  }
                }
              }
            }
          }
        ]
      }
    }
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
output captureContainerName string = account::blobService::capture.name
output reconciliationContainerName string = account::blobService::reconciliation.name
output deadLetterContainerName string = account::blobService::deadLetters.name
output deploymentContainerName string = account::blobService::deployment.name
