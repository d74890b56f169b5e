using ClickFunctions.Functions;
using Microsoft.Extensions.Hosting;

ClickFunctionsApp.CreateBuilder(args).Build().Run();
