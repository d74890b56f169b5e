using ClickFunctions.Azure;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

namespace ClickFunctions.Functions;

/// <summary>The Functions app: the worker with ASP.NET Core integration over the Azure shape's wiring. The tests start here too.</summary>
public static class Program
{
    public static FunctionsApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.AddAzureAdapters();
        return builder;
    }

    public static void Main(string[] args) => CreateBuilder(args).Build().Run();
}
