// The Functions app on Flex Consumption (.NET isolated 10.0) with the user-assigned identity. App settings match
// local.settings.sample.json: identity-based connections (no connection strings, no keys) and Key Vault references
// for the secrets. FUNCTIONS_WORKER_RUNTIME is not an app setting on Flex Consumption: functionAppConfig.runtime
// carries it. Easy Auth guards the query routes; the click route /c stays anonymous.
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param captureContainerName string
param reconciliationContainerName string
param deadLetterContainerName string
param eventHubsNamespaceName string
param eventHubName string
param consumerGroupName string

@description('Consumer group on which MonitorPartitionLag reads the oldest unconsumed event of a lagging partition.')
param monitorConsumerGroupName string

@description('Partitions of the clicks hub (Kusto:SourcePartitions: Managed ingestion scales one partition\'s volume by it).')
param eventHubPartitionCount int = 32
param captureWindow string
param kustoClusterUri string
param kustoDatabaseName string
param clickSigningKeyId string
param clickSigningKeyUri string
param clickSigningPreviousKeyId string
param clickSigningPreviousKeyUri string
param fingerprintSecretUri string
param appInsightsName string
param maximumInstanceCount int
param instanceMemoryMB int
param authClientId string
param authTenantId string
@description('Entra object ids (comma-separated) that are the admin without the role (Admin:PrincipalIds); empty: the role only.')
param adminPrincipalIds string = ''

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var eventHubsHost = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': 'functions'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccount.name
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'EventHubs__fullyQualifiedNamespace'
          value: eventHubsHost
        }
        {
          name: 'EventHubs__credential'
          value: 'managedidentity'
        }
        {
          name: 'EventHubs__clientId'
          value: identityClientId
        }
        {
          name: 'EventHubs__EventHubName'
          value: eventHubName
        }
        {
          name: 'EventHubs__ConsumerGroup'
          value: consumerGroupName
        }
        {
          name: 'EventHubs__QueueCapacity'
          value: '20000'
        }
        {
          name: 'EventHubs__MaxClicksPerCommit'
          value: '2000'
        }
        {
          name: 'EventHubs__MaxConcurrentSends'
          value: '4'
        }
        {
          name: 'EVENTHUB_NAME'
          value: eventHubName
        }
        {
          name: 'EVENTHUB_CONSUMER_GROUP'
          value: consumerGroupName
        }
        {
          name: 'Claims__TableServiceUri'
          value: storageAccount.properties.primaryEndpoints.table
        }
        {
          name: 'Claims__TablePrefix'
          value: 'claims'
        }
        {
          name: 'Claims__PartitionKeyDigits'
          value: '1'
        }
        {
          name: 'Capture__BlobServiceUri'
          value: storageAccount.properties.primaryEndpoints.blob
        }
        {
          name: 'Capture__Container'
          value: captureContainerName
        }
        {
          name: 'Capture__Namespace'
          value: namespace.name
        }
        {
          name: 'Capture__EventHub'
          value: eventHubName
        }
        {
          name: 'Capture__DeadLetterContainer'
          value: deadLetterContainerName
        }
        {
          name: 'Reconcile__ReportContainer'
          value: reconciliationContainerName
        }
        {
          name: 'Reconcile__CaptureWindow'
          value: captureWindow
        }
        {
          name: 'Reconcile__AllowedLateness'
          value: '00:10:00'
        }
        {
          name: 'Reconcile__Span'
          value: '00:10:00'
        }
        {
          // Raw events read before each window to rebuild dedup state: an hour, not the 24 h claim horizon, so a
          // 10-minute run reads ~4M Capture events at seed load instead of ~100M (docs/azure.md).
          name: 'Reconcile__DedupLookback'
          value: '01:00:00'
        }
        {
          name: 'RECONCILE_SCHEDULE'
          value: '0 */10 * * * *'
        }
        {
          // Every minute: lag of every partition from its checkpoint, so a partition no instance runs still shows.
          name: 'LAG_MONITOR_SCHEDULE'
          value: '0 * * * * *'
        }
        {
          name: 'LagMonitor__ConsumerGroup'
          value: monitorConsumerGroupName
        }
        // Tunables at their code defaults (the options classes), listed so the deployed app shows them; the local
        // sample has the same values (AppContractTests).
        {
          name: 'EventHubs__SendRetries'
          value: '3'
        }
        {
          name: 'EventHubs__SendRetryDelay'
          value: '00:00:00.300'
        }
        {
          name: 'EventHubs__SendRetryMaxDelay'
          value: '00:00:02'
        }
        {
          name: 'EventHubs__SendTimeout'
          value: '00:00:10'
        }
        {
          name: 'Claims__TableSpan'
          value: '2.00:00:00'
        }
        {
          name: 'Claims__ReorderTolerance'
          value: '00:10:00'
        }
        {
          name: 'Claims__RetainAfter'
          value: '3.00:00:00'
        }
        {
          name: 'Claims__MaxAttempts'
          value: '6'
        }
        {
          name: 'Claims__InitialBackoff'
          value: '00:00:00.200'
        }
        {
          name: 'Capture__FileWindow'
          value: '00:15:00'
        }
        {
          name: 'Aggregation__PermanentAttempts'
          value: '2'
        }
        {
          name: 'Aggregation__TransientAttempts'
          value: '8'
        }
        {
          name: 'Aggregation__InitialBackoff'
          value: '00:00:01'
        }
        {
          name: 'Aggregation__MaxBackoff'
          value: '00:00:30'
        }
        {
          name: 'Reconcile__IngestionSettle'
          value: '00:05:00'
        }
        {
          name: 'Kusto__IngestionMode'
          value: 'Managed'
        }
        {
          name: 'Kusto__StreamingMaxBytesPerHour'
          value: '4000000000'
        }
        {
          // The hub's partition count: Managed ingestion estimates the table's volume as one partition's times this.
          name: 'Kusto__SourcePartitions'
          value: string(eventHubPartitionCount)
        }
        {
          name: 'Kusto__MaxIngestBytes'
          value: '3500000'
        }
        {
          name: 'Kusto__MaxQueuedBlobBytes'
          value: '100000000'
        }
        {
          name: 'Kusto__MaxAttempts'
          value: '6'
        }
        {
          name: 'Kusto__InitialBackoff'
          value: '00:00:01'
        }
        {
          name: 'Kusto__AttemptTimeout'
          value: '00:01:00'
        }
        {
          name: 'Kusto__MaxRowsPerQuery'
          value: '200000'
        }
        {
          name: 'Kusto__ClusterUri'
          value: kustoClusterUri
        }
        {
          name: 'Kusto__Database'
          value: kustoDatabaseName
        }
        {
          name: 'Kusto__Application'
          value: 'ClickFunctions'
        }
        {
          name: 'Kusto__QueryTimeout'
          value: '00:00:30'
        }
        {
          name: 'ManagedIdentity__ClientId'
          value: identityClientId
        }
        {
          name: 'ClickSigning__KeyId'
          value: clickSigningKeyId
        }
        {
          name: 'ClickSigning__Key'
          value: '@Microsoft.KeyVault(SecretUri=${clickSigningKeyUri})'
        }
        {
          name: 'ClickSigning__PreviousKeyId'
          value: clickSigningPreviousKeyId
        }
        {
          name: 'ClickSigning__PreviousKey'
          value: '@Microsoft.KeyVault(SecretUri=${clickSigningPreviousKeyUri})'
        }
        {
          name: 'Privacy__FingerprintSecret'
          value: '@Microsoft.KeyVault(SecretUri=${fingerprintSecretUri})'
        }
        {
          name: 'Clicks__ClickIdParameter'
          value: 'cf_click'
        }
        {
          name: 'Dedup__Horizon'
          value: '1.00:00:00'
        }
        {
          // The admin API (docs/query-api.md, Admin API; decision 067): who is the admin, and the Table Storage table
          // in the claims' account that maps Entra principals to advertisers, so onboarding needs no redeploy.
          name: 'Admin__Role'
          value: 'ClickFunctions.Admin'
        }
        {
          name: 'Admin__PrincipalIds'
          value: adminPrincipalIds
        }
        {
          name: 'Accounts__TableName'
          value: 'accounts'
        }
        {
          // The query API's per-key token bucket and failed-authentication throttle (RateLimitOptions defaults).
          name: 'RateLimits__PerKeyPerSecond'
          value: '20'
        }
        {
          name: 'RateLimits__PerKeyBurst'
          value: '100'
        }
        {
          name: 'RateLimits__FailedAuthBurst'
          value: '10'
        }
        {
          name: 'RateLimits__FailedAuthPerMinute'
          value: '10'
        }
        {
          // 5% of traces (TelemetryExtensions.DefaultTraceSamplingRatio): one span per click is too many at 10k/s.
          name: 'Telemetry__TraceSamplingRatio'
          value: '0.05'
        }
        {
          // Not a secret: it names the App Insights resource and its ingestion endpoint. Local auth is disabled on
          // the component, so telemetry is accepted only with the Entra token the next setting asks for.
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'Authorization=AAD;ClientId=${identityClientId}'
        }
      ]
    }
  }
}

// Easy Auth: the advertiser query routes need an Entra token for authClientId; the click redirect is public.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      // The click redirect, the OpenAPI document and its browsable reference (they describe the API and hold no
      // data; decision 079). Exact paths: the reference is one page and one script.
      excludedPaths: [
        '/c'
        '/openapi/v1.json'
        '/scalar'
        '/scalar/scalar.js'
        // The dashboard's page and its assets (decision 083): no data; its numbers come from the guarded API.
        '/dashboard'
        '/dashboard/dashboard.js'
        '/dashboard/dashboard.css'
        '/dashboard/uPlot.iife.min.js'
        '/dashboard/uPlot.min.css'
      ]
    }
    // Without an app registration no provider is configured, so the guarded routes answer 401 until one is.
    identityProviders: empty(authClientId) ? {} : {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = app.name
output url string = 'https://${app.properties.defaultHostName}'
