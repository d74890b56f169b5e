namespace ClickFunctions.Infra.Tests.Tooling;

/// <summary>
/// A copy of the repository's build inputs (root props, global.json, host.json, functions/ without bin and obj) in a
/// temporary folder, so the tests can restore, evaluate and publish the real Functions project as an operator would
/// without touching the repository's obj folders that other test projects built from. Made once per run.
/// </summary>
public static class FunctionsSourceCopy
{
    private static readonly string[] RootFiles = ["Directory.Build.props", "Directory.Packages.props", "global.json", "host.json", "nuget.config", "NuGet.config"];
    private static readonly Lazy<string> Copy = new(Create);

    public static string Root => Copy.Value;

    public static string Project => Path.Combine(Root, "functions", "ClickFunctions");

    private static string Create()
    {
        var root = Directory.CreateTempSubdirectory("functions-copy-").FullName;
        foreach (var file in RootFiles.Where(f => File.Exists(Path.Combine(RepositoryPaths.Root, f))))
        {
            File.Copy(Path.Combine(RepositoryPaths.Root, file), Path.Combine(root, file));
        }
        CopyDirectory(RepositoryPaths.Functions, Path.Combine(root, "functions"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // a leftover temporary folder is harmless
            }
        };
        return root;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var directory in Directory.GetDirectories(from))
        {
            var name = Path.GetFileName(directory);
            if (name is "bin" or "obj" or ".data" or "node_modules")
            {
                continue;
            }
            CopyDirectory(directory, Path.Combine(to, name));
        }
    }
}
