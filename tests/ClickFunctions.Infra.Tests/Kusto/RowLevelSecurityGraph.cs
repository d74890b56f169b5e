using System.Text.RegularExpressions;
using ClickFunctions.Infra.Tests.Tooling;

namespace ClickFunctions.Infra.Tests.Kusto;

/// <summary>A row-level security policy and the tables and materialized views its query reads, through functions.</summary>
public sealed record RlsPolicy(string Entity, bool Enabled, string Query, IReadOnlySet<string> Reaches);

/// <summary>
/// The dependency graph of a database script: its tables, materialized views and stored functions, and for each
/// row_level_security policy (the last command for an entity wins) the entities its query reaches when every
/// function it calls is expanded. Names are matched as whole identifiers outside comments and string literals,
/// which can only over-report a reference, never miss one.
/// </summary>
public sealed partial class RowLevelSecurityGraph
{
    private RowLevelSecurityGraph(IReadOnlySet<string> tables, IReadOnlySet<string> views, IReadOnlyDictionary<string, string> functions, IReadOnlyList<RlsPolicy> policies)
    {
        Tables = tables;
        Views = views;
        Functions = functions;
        Policies = policies;
    }

    public IReadOnlySet<string> Tables { get; }

    public IReadOnlySet<string> Views { get; }

    /// <summary>Function name to body.</summary>
    public IReadOnlyDictionary<string, string> Functions { get; }

    public IReadOnlyList<RlsPolicy> Policies { get; }

    public IReadOnlySet<string> Protected => Policies.Where(p => p.Enabled).Select(p => p.Entity).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// "The RLS query can't reference other tables that have Row Level Security policy enabled" (Microsoft Learn,
    /// "Row level security policy", Limitations): every enabled policy whose query reaches an entity, other than the
    /// one it is on, that has an enabled policy too.
    /// </summary>
    public IReadOnlyList<string> Violations() =>
        Policies.Where(p => p.Enabled)
            .SelectMany(p => p.Reaches.Where(e => e != p.Entity && Protected.Contains(e)).Select(e => $"the RLS query of {p.Entity} reaches {e}, which has row-level security"))
            .ToList();

    public static RowLevelSecurityGraph Build(IEnumerable<KustoCommand> commands)
    {
        var tables = new HashSet<string>(StringComparer.Ordinal);
        var views = new HashSet<string>(StringComparer.Ordinal);
        var functions = new Dictionary<string, string>(StringComparer.Ordinal);
        var policies = new Dictionary<string, (bool Enabled, string Query)>(StringComparer.Ordinal);
        foreach (var command in commands)
        {
            Match m;
            if ((m = Table().Match(command.Text)).Success)
            {
                tables.Add(m.Groups["name"].Value);
            }
            else if ((m = View().Match(command.Text)).Success)
            {
                views.Add(m.Groups["name"].Value);
            }
            else if ((m = Function().Match(command.Text)).Success)
            {
                functions[m.Groups["name"].Value] = m.Groups["body"].Value;
            }
            else if ((m = Policy().Match(command.Text)).Success)
            {
                var query = Regex.Unescape(m.Groups["query"].Value);
                policies[m.Groups["name"].Value] = (m.Groups["state"].Value == "enable", query);
            }
        }

        var entities = tables.Concat(views).ToHashSet(StringComparer.Ordinal);
        var list = policies.Select(p => new RlsPolicy(p.Key, p.Value.Enabled, p.Value.Query, Reach(p.Value.Query, entities, functions))).ToList();
        return new RowLevelSecurityGraph(tables, views, functions, list);
    }

    private static HashSet<string> Reach(string query, IReadOnlySet<string> entities, IReadOnlyDictionary<string, string> functions)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var expanded = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([query]);
        while (pending.TryPop(out var text))
        {
            foreach (var name in Identifiers(text))
            {
                if (entities.Contains(name))
                {
                    reached.Add(name);
                }
                else if (functions.TryGetValue(name, out var body) && expanded.Add(name))
                {
                    pending.Push(body);
                }
            }
        }
        return reached;
    }

    private static IEnumerable<string> Identifiers(string kql)
    {
        var code = Comment().Replace(kql, " ");
        code = StringLiteral().Replace(code, " ");
        return Identifier().Matches(code).Select(m => m.Value);
    }

    [GeneratedRegex(@"^\.create(?:-merge)?\s+table\s+(?<name>\w+)\s*\(")]
    private static partial Regex Table();

    [GeneratedRegex(@"^\.create(?:-or-alter)?\s+(?:async\s+)?(?:ifnotexists\s+)?materialized-view\s+(?:with\s*\((?:[^()'""]|'[^']*'|""[^""]*"")*\)\s*)?(?<name>\w+)\s+on\s")]
    private static partial Regex View();

    [GeneratedRegex(@"^\.create(?:-or-alter)?\s+function\s+(?:ifnotexists\s+)?(?:with\s*\((?:[^()'""]|'[^']*'|""[^""]*"")*\)\s*)?(?<name>\w+)\s*\((?:[^()]|\([^()]*\))*\)\s*\{(?<body>[\s\S]*)\}\s*$")]
    private static partial Regex Function();

    [GeneratedRegex(@"^\.alter\s+(?:table|materialized-view)\s+(?<name>\w+)\s+policy\s+row_level_security\s+(?<state>enable|disable)\s+(?:with\s*\([^)]*\)\s*)?""(?<query>(?:[^""\\]|\\.)*)""\s*$")]
    private static partial Regex Policy();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex Comment();

    [GeneratedRegex(@"'(?:[^'\\]|\\.)*'|""(?:[^""\\]|\\.)*""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\b[A-Za-z_][A-Za-z0-9_]*\b")]
    private static partial Regex Identifier();
}
