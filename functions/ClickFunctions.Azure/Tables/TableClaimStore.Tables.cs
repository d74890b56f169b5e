using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace ClickFunctions.Azure.Tables;

/// <summary>The claims tables' life cycle: each created the first time the store uses it, dropped once its span has expired.</summary>
public sealed partial class TableClaimStore
{
    /// <summary>A span's table is dropped once <see cref="TableClaimOptions.RetainAfter"/> has passed since the span ended.</summary>
    private bool IsExpired(long span) => SpanStart(span + 1) + _options.RetainAfter <= _time.GetUtcNow();

    /// <summary>
    /// Drops every claims table of this prefix whose span ended more than <see cref="TableClaimOptions.RetainAfter"/>
    /// ago. Lists tables by name range (a query on the table service, not on entities). Returns the names dropped.
    /// </summary>
    public async Task<IReadOnlyList<string>> DropExpiredTablesAsync(CancellationToken cancellationToken)
    {
        var dropped = new List<string>();
        string prefix = _options.TablePrefix;
        string filter = TableServiceClient.CreateQueryFilter($"TableName ge {prefix} and TableName lt {prefix + "{"}");
        await foreach (var item in _service.QueryAsync(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            string suffix = item.Name[prefix.Length..];
            if (suffix.Length == NameFormat.Length &&
                DateTimeOffset.TryParseExact(suffix, NameFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var start) &&
                IsExpired(Span(start)))
            {
                await _service.DeleteTableAsync(item.Name, cancellationToken).ConfigureAwait(false);
                _createdTables.TryRemove(item.Name, out _);
                Log.TableDropped(_logger, item.Name);
                dropped.Add(item.Name);
            }
        }
        return dropped;
    }

    private Task<TableClient> EnsureTableAsync(string tableName, CancellationToken cancellationToken)
    {
        var table = _service.GetTableClient(tableName);
        var created = _createdTables.GetOrAdd(tableName, _ => CreateAndSweepAsync(table));
        if (created.IsFaulted)
        {
            _createdTables.TryRemove(tableName, out _);
        }
        return Await(created, table, cancellationToken);

        static async Task<TableClient> Await(Task created, TableClient table, CancellationToken cancellationToken)
        {
            await created.WaitAsync(cancellationToken).ConfigureAwait(false);
            return table;
        }
    }

    /// <summary>Creates a table the first time this store uses it, and then drops the expired ones (once per new span).</summary>
    private async Task CreateAndSweepAsync(TableClient table)
    {
        await table.CreateIfNotExistsAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await DropExpiredTablesAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            Log.DropFailed(_logger, _options.TablePrefix, ex);
        }
    }
}
