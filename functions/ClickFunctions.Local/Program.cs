using ClickFunctions.Local.Cli;

return await CliRoot.RunAsync(args);
