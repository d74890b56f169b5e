using System.Text.Json;
using System.Text.Json.Nodes;
using ClickFunctions.Azure.Kusto;
using ClickFunctions.Azure.Tests.Infrastructure;

namespace ClickFunctions.Azure.Tests.Kusto;

/// <summary>The ADX REST client against a loopback server replaying real recorded v2 responses (TestData/kusto).</summary>
public sealed class KustoClientConformanceTests : IAsyncLifetime
{
    private LoopbackKusto _server = null!;

    public async ValueTask InitializeAsync() => _server = await LoopbackKusto.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    public static string Recorded(string name) => File.ReadAllText(TestPaths.TestData("kusto", name));

    private static readonly Dictionary<string, KustoParameter> NoParameters = new(StringComparer.Ordinal);

    private void ExpectQuery(string response, Func<RecordedRequest, string?>? check = null, int status = 200) =>
        _server.Expect("POST", "/v2/rest/query", status, response, check);

    private void AssertNoMismatch() => Assert.Empty(_server.Mismatches);

    [Fact]
    public async Task A_recorded_result_set_is_read_from_its_PrimaryResult_table_with_every_column_and_row()
    {
        ExpectQuery(Recorded("python-deft.json"), r =>
        {
            using var body = JsonDocument.Parse(r.Body);
            return body.RootElement.GetProperty("db").GetString() == "clicks" && body.RootElement.GetProperty("csl").GetString() == "Deft"
                ? null : "wrong db or csl: " + r.Body;
        });
        var table = await _server.Client().QueryAsync("Deft", NoParameters, TestContext.Current.CancellationToken);
        AssertNoMismatch();

        Assert.Equal("Deft", table.Name);
        Assert.Equal(19, table.Columns.Count);
        Assert.Equal(new KustoColumn("xdate", "datetime"), table.Columns[12]);
        Assert.Equal(11, table.Rows.Count);
        var one = table.Rows[2];
        Assert.Equal(1, KustoTable.GetInt64(one[table.Ordinal("xint64")]));
        Assert.Equal(new DateTimeOffset(2015, 1, 1, 1, 1, 1, TimeSpan.Zero).AddTicks(1), KustoTable.GetDateTime(one[table.Ordinal("xdate")]));
        Assert.Equal("One", KustoTable.GetString(one[table.Ordinal("xtext")]));
        Assert.Equal("""{"rowId":1,"arr":[0,1]}""", KustoTable.GetString(one[table.Ordinal("xdynamicWithNulls")]));
        Assert.Null(KustoTable.GetInt64(table.Rows[0][table.Ordinal("xint64")]));
    }

    [Fact]
    public async Task An_empty_recorded_result_has_its_columns_and_no_rows()
    {
        ExpectQuery(Recorded("python-zero_results.json"));
        var table = await _server.Client().QueryAsync("print 'x' | take 0", NoParameters, TestContext.Current.CancellationToken);
        AssertNoMismatch();
        Assert.Equal("print_0", Assert.Single(table.Columns).Name);
        Assert.Empty(table.Rows);
    }

    [Fact]
    public async Task Null_values_of_every_type_read_as_null()
    {
        ExpectQuery(Recorded("python-null_values.json"));
        var table = await _server.Client().QueryAsync("nulls", NoParameters, TestContext.Current.CancellationToken);
        var row = Assert.Single(table.Rows);
        Assert.Null(KustoTable.GetString(row[table.Ordinal("String")]));
        Assert.Null(KustoTable.GetInt64(row[table.Ordinal("Long")]));
        Assert.Null(KustoTable.GetDateTime(row[table.Ordinal("Datetime")]));
    }

    [Fact]
    public async Task A_failure_reported_inside_a_200_response_is_an_exception_not_a_partial_result()
    {
        ExpectQuery(Recorded("python-query_partial_results_defer_is_false.json"));
        var error = await Assert.ThrowsAsync<KustoException>(() => _server.Client().QueryAsync("range x from 1 to 10 step 1", NoParameters, TestContext.Current.CancellationToken));
        AssertNoMismatch();
        Assert.Equal("LimitsExceeded", error.Code);
        Assert.Null(error.Status);
        Assert.StartsWith("ClickFunctions.Query;", error.ClientRequestId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_response_cut_before_its_completion_frame_is_an_exception()
    {
        var frames = JsonNode.Parse(Recorded("python-deft.json"))!.AsArray();
        frames.RemoveAt(frames.Count - 1);
        ExpectQuery(frames.ToJsonString());
        await Assert.ThrowsAsync<KustoException>(() => _server.Client().QueryAsync("Deft", NoParameters, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_HTTP_error_carries_the_status_and_the_OneApi_error_code()
    {
        ExpectQuery("""{"error":{"code":"General_BadRequest","message":"Request is invalid and cannot be executed.","@message":"Syntax error: Query could not be parsed"}}""", status: 400);
        var error = await Assert.ThrowsAsync<KustoPermanentException>(() => _server.Client().QueryAsync("bad query", NoParameters, TestContext.Current.CancellationToken));
        Assert.Equal(400, error.Status);
        Assert.Equal("General_BadRequest", error.Code);
        Assert.Contains("Syntax error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_are_requested_for_the_cluster_scope_and_each_request_has_its_own_request_id()
    {
        ExpectQuery(Recorded("python-zero_results.json"));
        ExpectQuery(Recorded("python-zero_results.json"));
        var client = _server.Client();
        await client.QueryAsync("a", NoParameters, TestContext.Current.CancellationToken);
        await client.QueryAsync("b", NoParameters, TestContext.Current.CancellationToken);
        AssertNoMismatch();
        Assert.All(_server.Credential.Scopes, s => Assert.Equal(_server.BaseAddress.GetLeftPart(UriPartial.Authority) + "/.default", s));
        Assert.Equal(2, _server.Requests.Select(r => r.Headers["x-ms-client-request-id"]).Distinct().Count());
    }

    [Fact]
    public async Task Management_commands_go_to_the_v1_mgmt_endpoint_and_read_the_first_table()
    {
        _server.Expect("POST", "/v1/rest/mgmt", 200,
            """{"Tables":[{"TableName":"Table_0","Columns":[{"ColumnName":"BuildVersion","DataType":"String","ColumnType":"string"},{"ColumnName":"ServiceType","DataType":"String","ColumnType":"string"}],"Rows":[["1.0.9999","Engine"]]}]}""",
            r => r.Body.Contains("\".show version\"", StringComparison.Ordinal) ? null : "csl missing: " + r.Body);
        var table = await _server.Client().ExecuteManagementAsync(".show version", TestContext.Current.CancellationToken);
        AssertNoMismatch();
        Assert.Equal("Engine", KustoTable.GetString(Assert.Single(table.Rows)[table.Ordinal("ServiceType")]));
    }
}
