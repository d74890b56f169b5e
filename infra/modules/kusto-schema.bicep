// Applies the database schema script. Every command in it is idempotent; forceUpdateTag re-runs the script
// whenever its text changes.
param clusterName string
param databaseName string

@secure()
param scriptContent string

resource cluster 'Microsoft.Kusto/clusters@2024-04-13' existing = {
  name: clusterName

  resource database 'databases' existing = {
    name: databaseName
  }
}

resource script 'Microsoft.Kusto/clusters/databases/scripts@2024-04-13' = {
  parent: cluster::database
  name: 'schema'
  properties: {
    scriptContent: scriptContent
    continueOnErrors: false
    forceUpdateTag: uniqueString(scriptContent)
  }
}
