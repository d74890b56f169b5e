using ClickFunctions.Local;

if (args is ["sign", ..])
{
    return await SignCommand.RunAsync(args[1..]);
}

if (args is ["reconcile", ..])
{
    return await ReconcileCommand.RunAsync(args[1..]);
}

if (args is ["backup", ..])
{
    return await BackupCommand.RunAsync(args[1..]);
}

if (args is ["erase", ..])
{
    return await EraseCommand.RunAsync(args[1..]);
}

if (args is ["restore", ..])
{
    return await RestoreCommand.RunAsync(args[1..]);
}

// No watching of appsettings files for changes: a watcher on the working directory costs CPU on the click path.
var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
builder.AddLocalHost();
var app = builder.Build();
app.MapLocalHost();
await app.RunAsync();
return 0;
