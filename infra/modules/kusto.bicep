// Azure Data Explorer: the cluster with streaming ingestion, the clicks database, its schema from infra/kusto/*.kql
// (applied by a database script on every deployment that changes it) and the app identity's database roles.
param clusterName string
param location string
param tags object
param skuName string

@minValue(2)
@description('Instances of an SLA (Standard tier) SKU; Dev(No SLA) SKUs always run one.')
param capacity int

@description('Client id of the Function App identity: it ingests bucket rows and queries the views.')
param appClientId string
param tenantId string

@description('Days the database keeps data unless a table or view policy says otherwise.')
param softDeletePeriodDays int = 365

@description('Days of data kept in hot cache unless a table or view policy says otherwise.')
param hotCachePeriodDays int = 31

var databaseName = 'clicks'
var isDev = startsWith(skuName, 'Dev(No SLA)')

// The database script (Microsoft.Kusto/clusters/databases/scripts) runs only database-level commands that start with
// .create, .create-or-alter, .create-merge, .alter, .alter-merge or .add ("Configure a database using a Kusto Query
// Language script"); the infra tests check every command of the text below. Commands are separated by blank lines;
// the files are concatenated in order (tables, views, functions, security), so each file may use what the earlier
// ones declare. APP_PRINCIPAL_ID (in SeesAllAdvertisers) becomes the app identity's current_principal() value.
var schemaScript = replace(join([
  loadTextContent('../kusto/01-tables.kql')
  loadTextContent('../kusto/02-views.kql')
  loadTextContent('../kusto/03-functions.kql')
  loadTextContent('../kusto/04-security.kql')
], '\n'), 'APP_PRINCIPAL_ID', 'aadapp=${appClientId};${tenantId}')

resource cluster 'Microsoft.Kusto/clusters@2024-04-13' = {
  name: clusterName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: isDev ? 'Basic' : 'Standard'
    capacity: isDev ? 1 : capacity
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    enableStreamingIngest: true
    enableAutoStop: isDev
    enableDiskEncryption: !isDev
    publicNetworkAccess: 'Enabled'
    optimizedAutoscale: isDev ? null : {
      version: 1
      isEnabled: true
      minimum: capacity
      maximum: min(capacity * 4, 1000)
    }
  }
}

resource database 'Microsoft.Kusto/clusters/databases@2024-04-13' = {
  parent: cluster
  name: databaseName
  location: location
  kind: 'ReadWrite'
  properties: {
    softDeletePeriod: 'P${softDeletePeriodDays}D'
    hotCachePeriod: 'P${hotCachePeriodDays}D'
  }
}

// The script content is a secure property of the resource provider, so it goes in through a secure parameter.
module schema 'kusto-schema.bicep' = {
  params: {
    clusterName: cluster.name
    databaseName: database.name
    scriptContent: schemaScript
  }
}

resource ingestor 'Microsoft.Kusto/clusters/databases/principalAssignments@2024-04-13' = {
  parent: database
  name: guid(database.id, appClientId, 'Ingestor')
  properties: {
    principalId: appClientId
    principalType: 'App'
    role: 'Ingestor'
    tenantId: tenantId
  }
  dependsOn: [
    schema
  ]
}

resource viewer 'Microsoft.Kusto/clusters/databases/principalAssignments@2024-04-13' = {
  parent: database
  name: guid(database.id, appClientId, 'Viewer')
  properties: {
    principalId: appClientId
    principalType: 'App'
    role: 'Viewer'
    tenantId: tenantId
  }
  dependsOn: [
    ingestor // the Kusto resource provider applies one principal change at a time
  ]
}

output clusterUri string = cluster.properties.uri
output databaseName string = database.name
