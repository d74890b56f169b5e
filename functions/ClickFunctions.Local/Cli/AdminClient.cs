using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ClickFunctions.Embedded;

namespace ClickFunctions.Local.Cli;

/// <summary>
/// The admin API of a running host, as the <c>advertisers</c> and <c>keys</c> commands call it. The host is
/// <c>--host</c>, else the configuration's <c>ClickFunctions:Url</c> (environment <c>ClickFunctions__Url</c>), else
/// <see cref="LocalPaths.DefaultUrl"/>; the admin key is <c>--admin-key</c>, else <c>Admin:ApiKey</c>, else the
/// development admin key the local host created in its data directory (<see cref="DevAdminKey"/>).
/// </summary>
public sealed class AdminClient : IDisposable
{
    public const string UrlKey = "ClickFunctions:Url";

    private readonly HttpClient _http;

    private AdminClient(Uri host, string adminKey)
    {
        Host = host;
        _http = new HttpClient { BaseAddress = host, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
    }

    public Uri Host { get; }

    /// <summary>The options every admin command takes.</summary>
    public sealed record Options(Option<string?> Host, Option<string?> AdminKey, Option<string?> DataDir)
    {
        public static Options Create() => new(
            new Option<string?>("--host") { Description = $"The running host (default {UrlKey} or {LocalPaths.DefaultUrl})" },
            new Option<string?>("--admin-key") { Description = "The admin key (default Admin:ApiKey, else the local host's development admin key in --data-dir)" },
            new Option<string?>("--data-dir") { Description = $"Data directory of the local host, for its development admin key (default {EmbeddedPaths.DefaultDataDirectory})" });

        public void AddTo(Command command)
        {
            ArgumentNullException.ThrowIfNull(command);
            command.Options.Add(Host);
            command.Options.Add(AdminKey);
            command.Options.Add(DataDir);
        }
    }

    public static AdminClient From(ParseResult result, Options options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var configuration = LocalPaths.CliConfiguration(result.GetValue(options.DataDir));
        string url = result.GetValue(options.Host) ?? configuration[UrlKey] ?? LocalPaths.DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var host) || host.Scheme is not ("http" or "https"))
        {
            throw new CliException($"--host must be an http(s) URL, not '{url}'.");
        }
        string? key = result.GetValue(options.AdminKey) ?? configuration[DevAdminKey.ConfigurationKey];
        if (string.IsNullOrEmpty(key))
        {
            string dataDirectory = EmbeddedPaths.From(configuration).DataDirectory;
            key = DevAdminKey.Read(dataDirectory)
                ?? throw new CliException($"No admin key: give --admin-key, set {DevAdminKey.ConfigurationKey}, or start the local host once on {dataDirectory} so it creates a development admin key there.");
        }
        return new AdminClient(host, key);
    }

    public async Task<JsonElement?> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, AdminCliJson.Default.GetTypeInfo(body.GetType())!);
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"Cannot reach the host at {Host} ({e.Message.TrimEnd('.')}); is it running? Start it with `dotnet run --project functions/ClickFunctions.Local`, or give --host.", 1);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"The host at {Host} did not answer within {_http.Timeout.TotalSeconds:0} s.", 1);
        }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException($"{(int)response.StatusCode} {response.ReasonPhrase}: {Detail(response.StatusCode, text)}", 1);
            }
            return text.Length == 0 ? null : JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    private static string Detail(HttpStatusCode status, string text)
    {
        try
        {
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var name in new[] { "detail", "title" })
                {
                    if (problem.RootElement.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } message)
                    {
                        return message;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // not a problem document
        }
        return status switch
        {
            HttpStatusCode.Unauthorized => "the admin key was refused (wrong --admin-key or Admin:ApiKey?)",
            HttpStatusCode.NotFound => "not found",
            _ => text.Length > 0 ? text.ReplaceLineEndings(" ") : "no details",
        };
    }

    public void Dispose() => _http.Dispose();
}

public sealed record NewAdvertiserRequest(string Id, string? Name, string? TimeZone);

public sealed record NewKeyRequest(DateTimeOffset? Expires);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(NewAdvertiserRequest))]
[System.Text.Json.Serialization.JsonSerializable(typeof(NewKeyRequest))]
internal sealed partial class AdminCliJson : System.Text.Json.Serialization.JsonSerializerContext;
