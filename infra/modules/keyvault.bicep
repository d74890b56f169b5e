// Key Vault with the click-signing keys and the fingerprint secret. RBAC authorization only; the app reads the
// secrets through Key Vault references in its app settings.
param name string
param location string
param tags object

@secure()
param clickSigningKey string

@secure()
param clickSigningPreviousKey string

@secure()
param fingerprintSecret string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }

  resource current 'secrets' = {
    name: 'click-signing-current'
    properties: {
      value: clickSigningKey
    }
  }

  resource previous 'secrets' = {
    name: 'click-signing-previous'
    properties: {
      value: clickSigningPreviousKey
    }
  }

  resource fingerprint 'secrets' = {
    name: 'fingerprint-secret'
    properties: {
      value: fingerprintSecret
    }
  }
}

output name string = vault.name
// Versionless URIs, so a rotated secret is picked up without redeploying the app settings.
output clickSigningKeyUri string = vault::current.properties.secretUri
output clickSigningPreviousKeyUri string = vault::previous.properties.secretUri
output fingerprintSecretUri string = vault::fingerprint.properties.secretUri
