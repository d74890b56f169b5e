using Azure.Core;
using ClickFunctions.Azure.Tests.Kusto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClickFunctions.Azure.Tests.Infrastructure;

/// <summary>
/// The Functions app's host as the worker builds it, with valid settings, its Kusto client pointed at a loopback ADX
/// server (and that server's credential), and optionally its Table Storage on Azurite (the accounts table).
/// </summary>
internal static class FunctionsAppHost
{
    public static IHost Build(LoopbackKusto adx, Azurite? azurite = null)
    {
        var settings = AppSettings.Valid();
        settings["Kusto:ClusterUri"] = adx.BaseAddress.ToString();
        var builder = ClickFunctions.Functions.Program.CreateBuilder(AppSettings.AsArgs(settings));
        builder.Services.AddSingleton<TokenCredential>(adx.Credential);
        if (azurite is not null)
        {
            builder.Services.AddSingleton<global::Azure.Data.Tables.TableServiceClient>(azurite.Tables());
        }
        return builder.Build();
    }
}
