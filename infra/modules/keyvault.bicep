// Key Vault with the click-signing keys and the fingerprint secret. RBAC authorization only; the app reads the
// secrets through Key Vault references in its app settings.
//
// Soft delete (always on) keeps a deleted vault recoverable for 90 days; purge protection is deliberately left off
// (docs/decisions/045-infra-key-vault-without-purge-protection.md). The vault's name is derived from subscription,
// environment and location, so it is the same on every `azd up` of an environment. A soft-deleted vault keeps its
// name reserved; with purge protection nobody can purge it (and `azd down --purge` skips purge-protected vaults), so
// the next `azd up` of the same environment would fail for 90 days. Without it, `azd down --purge` frees the name.
// enablePurgeProtection is omitted rather than false: the property does not accept false.
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
