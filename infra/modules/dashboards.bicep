// Portal monitoring over the app's OpenTelemetry metrics (meter "ClickFunctions", exported to Application Insights
// as customMetrics) and its request telemetry: a workbook, and log alerts on publish failures, ingestion failures,
// aggregator lag, dead-lettered batches, reconciliation drift and HTTP 5xx.
param location string
param tags object
param appInsightsName string
param workbookDisplayName string
param actionGroupName string
param alertNamePrefix string
param alertEmail string
param aggregatorLagThresholdMs int
param reconcileDriftThreshold int

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Counters arrive as one customMetrics row per export interval (valueSum is the increment); histograms carry
// valueSum, valueCount and valueMax.
var queries = {
  clicksPerSecond: 'customMetrics | where name in ("clicks.recorded", "clicks.invalid", "clicks.rejected") | summarize PerSecond = sum(valueSum) / 60.0 by name, bin(timestamp, 1m) | render timechart'
  redirectLatency: 'requests | where url has "/c?" or name has "ClickRedirect" | summarize p50 = percentile(duration, 50), p95 = percentile(duration, 95), p99 = percentile(duration, 99) by bin(timestamp, 1m) | render timechart'
  publishLatency: 'customMetrics | where name == "clicks.publish.latency" | summarize AvgMs = sum(valueSum) / sum(valueCount), MaxMs = max(valueMax) by bin(timestamp, 1m) | render timechart'
  publishBatch: 'customMetrics | where name in ("clicks.publish.batch_size", "aggregate.batch_size") | summarize AvgSize = sum(valueSum) / sum(valueCount) by name, bin(timestamp, 1m) | render timechart'
  duplicates: 'customMetrics | where name == "aggregate.duplicates" | summarize Duplicates = sum(valueSum) by bin(timestamp, 5m) | render columnchart'
  invalidByReason: 'customMetrics | where name in ("clicks.invalid", "clicks.rejected") | extend reason = tostring(customDimensions["reason"]) | summarize Clicks = sum(valueSum) by Kind = name, reason, bin(timestamp, 5m) | render columnchart'
  // aggregate.lag is recorded in milliseconds (AzureClickMetrics.LagUnit), like the aggregator-lag alert's threshold.
  consumerLag: 'customMetrics | where name == "aggregate.lag" | summarize AvgMs = sum(valueSum) / sum(valueCount), MaxMs = max(valueMax) by bin(timestamp, 1m) | render timechart'
  failures: 'customMetrics | where name in ("clicks.publish.failures", "clicks.publish.retries", "aggregate.ingestion.failures", "aggregate.failures", "aggregate.dead_letters", "aggregate.ingestion.reported_failures") | extend reason = coalesce(tostring(customDimensions["reason"]), tostring(customDimensions["status"])) | summarize Count = sum(valueSum) by name, reason, bin(timestamp, 5m) | render columnchart'
  backlog: 'customMetrics | where name == "aggregate.backlog" | summarize MaxEvents = max(valueMax) by bin(timestamp, 1m) | render timechart'
  reconciliation: 'customMetrics | where name in ("reconcile.drift", "reconcile.gaps") | summarize Value = sum(valueSum) by name, bin(timestamp, 10m) | render columnchart'
}

var panels = [
  {
    title: 'Clicks per second (recorded, invalid, rejected)'
    query: queries.clicksPerSecond
  }
  {
    title: '302 redirect latency (ms)'
    query: queries.redirectLatency
  }
  {
    title: 'Event Hubs publish latency before the 302 (ms)'
    query: queries.publishLatency
  }
  {
    title: 'Batch sizes (publish group commit, aggregator)'
    query: queries.publishBatch
  }
  {
    title: 'Duplicates dropped by the aggregator'
    query: queries.duplicates
  }
  {
    title: 'Invalid and rejected clicks by reason'
    query: queries.invalidByReason
  }
  {
    title: 'Consumer lag: enqueued to aggregated (ms)'
    query: queries.consumerLag
  }
  {
    title: 'Failures: publish, send retries (ServerBusy), ingestion, aggregation attempts, batches set aside'
    query: queries.failures
  }
  {
    title: 'Aggregator backlog: events enqueued after the checkpoint'
    query: queries.backlog
  }
  {
    title: 'Reconciliation drift (clicks corrected) and gaps'
    query: queries.reconciliation
  }
]

var workbook = {
  version: 'Notebook/1.0'
  items: map(range(0, length(panels)), i => {
    type: 3
    name: 'panel-${i}'
    content: {
      version: 'KqlItem/1.0'
      title: panels[i].title
      query: panels[i].query
      size: 0
      timeContext: {
        durationMs: 86400000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
    }
    customWidth: '50'
  })
  fallbackResourceIds: [
    appInsights.id
  ]
}

resource dashboard 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsights.id, 'click-aggregator-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: workbookDisplayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: string(workbook)
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'clicks'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alerts = [
  {
    name: 'publish-failures'
    description: 'Clicks could not be made durable in Event Hubs (the redirect failed for those users).'
    severity: 1
    query: 'customMetrics | where name == "clicks.publish.failures" | summarize Failures = sum(valueSum)'
    measure: 'Failures'
    threshold: 0
    window: 'PT5M'
  }
  {
    name: 'ingestion-failures'
    description: 'The aggregator could not ingest bucket rows into ADX.'
    severity: 2
    query: 'customMetrics | where name == "aggregate.ingestion.failures" | summarize Failures = sum(valueSum)'
    measure: 'Failures'
    threshold: 0
    window: 'PT5M'
  }
  {
    name: 'aggregator-lag'
    description: 'The aggregator is falling behind the click stream.'
    severity: 2
    query: 'customMetrics | where name == "aggregate.lag" | summarize LagMs = max(valueMax)'
    measure: 'LagMs'
    threshold: aggregatorLagThresholdMs
    window: 'PT5M'
  }
  {
    name: 'dead-lettered-batches'
    description: 'The aggregator set a batch aside in the deadletters container after its bounded retries (a permanent error such as 403 or a bad mapping, or transient errors that persisted). Its clicks are not counted until reconciliation recounts them; fix the cause (the reason is in the blob).'
    severity: 1
    query: 'customMetrics | where name == "aggregate.dead_letters" | summarize Batches = sum(valueSum)'
    measure: 'Batches'
    threshold: 0
    window: 'PT5M'
  }
  {
    name: 'reconcile-drift'
    description: 'Reconciliation corrected more clicks than expected, or found gaps in Capture.'
    severity: 2
    query: 'customMetrics | where name in ("reconcile.drift", "reconcile.gaps") | summarize Drift = sumif(valueSum, name == "reconcile.drift") + 1000000 * sumif(valueSum, name == "reconcile.gaps")'
    measure: 'Drift'
    threshold: reconcileDriftThreshold
    window: 'PT30M'
  }
  {
    name: 'http-5xx'
    description: 'The Functions app answered with server errors.'
    severity: 1
    query: 'requests | where toint(resultCode) >= 500 | summarize Errors = count()'
    measure: 'Errors'
    threshold: 5
    window: 'PT5M'
  }
]

resource rules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in alerts: {
    name: '${alertNamePrefix}-${alert.name}'
    location: location
    tags: tags
    properties: {
      displayName: '${alertNamePrefix}-${alert.name}'
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        appInsights.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: alert.window
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Total'
            metricMeasureColumn: alert.measure
            operator: 'GreaterThan'
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: empty(alertEmail) ? [] : [
          actionGroup.id
        ]
      }
    }
  }
]

output workbookId string = dashboard.id
