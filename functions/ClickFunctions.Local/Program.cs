using ClickFunctions.Local;

if (args is ["sign", ..])
{
    return await SignCommand.RunAsync(args[1..]);
}

if (args is ["reconcile", ..])
{
    return await ReconcileCommand.RunAsync(args[1..]);
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddLocalHost();
var app = builder.Build();
app.MapLocalHost();
await app.RunAsync();
return 0;
