var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapGet("/c", (HttpContext context) =>
{
    context.Response.StatusCode = StatusCodes.Status302Found;
    context.Response.Headers.Location = "https://example.com/landing";
    context.Response.Headers.CacheControl = "no-store";
    return Task.CompletedTask;
});
app.Run();
