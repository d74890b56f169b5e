using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ClickFunctions.Infra.Tests.Tooling;

/// <summary>
/// Evaluates template language expressions of a compiled ARM template ("[replace(join(...), ...)]") for the few
/// functions the Bicep compiler emits for values built from files and parameters. The grammar and the functions'
/// meaning are Microsoft's (Microsoft Learn, "Syntax and expressions in ARM templates" and "Template functions");
/// any other function is refused rather than guessed, so a value this cannot evaluate fails the test that asks.
/// `bicep snapshot` (the deployment engine) leaves values that depend on a module's secure parameters
/// unevaluated, which is why the tests evaluate the module's own expression with this.
/// </summary>
public sealed class ArmExpression
{
    private readonly JsonObject _template;
    private readonly IReadOnlyDictionary<string, object?> _parameters;
    private string _text = "";
    private int _position;

    public ArmExpression(JsonObject template, IReadOnlyDictionary<string, object?> parameters)
    {
        _template = template;
        _parameters = parameters;
    }

    /// <summary>A template value: an expression when it is a string in brackets, otherwise the literal.</summary>
    public object? Evaluate(JsonNode? value) => value switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => EvaluateString(s),
        JsonValue v when v.TryGetValue(out long l) => l,
        JsonValue v when v.TryGetValue(out bool b) => b,
        JsonArray a => a.Select(Evaluate).ToList(),
        _ => value,
    };

    private object? EvaluateString(string s)
    {
        if (s.StartsWith("[[", StringComparison.Ordinal))
        {
            return s[1..]; // an escaped literal that starts with a bracket
        }
        if (!(s.StartsWith('[') && s.EndsWith(']')))
        {
            return s;
        }

        var inner = new ArmExpression(_template, _parameters) { _text = s[1..^1], _position = 0 };
        var result = inner.ParseExpression();
        inner.SkipSpace();
        if (inner._position != inner._text.Length)
        {
            throw new FormatException($"Unexpected text at {inner._position} in {s}");
        }
        return result;
    }

    private object? ParseExpression()
    {
        var value = ParsePrimary();
        while (true)
        {
            SkipSpace();
            if (Peek('.'))
            {
                _position++;
                var name = ParseIdentifier();
                value = Member(value, name);
            }
            else if (Peek('['))
            {
                _position++;
                var index = ParseExpression();
                Expect(']');
                value = index is string key ? Member(value, key) : ((IList<object?>)value!)[Convert.ToInt32(index, CultureInfo.InvariantCulture)];
            }
            else
            {
                return value;
            }
        }
    }

    private object? ParsePrimary()
    {
        SkipSpace();
        if (Peek('\''))
        {
            return ParseString();
        }
        if (_position < _text.Length && (char.IsDigit(_text[_position]) || _text[_position] == '-'))
        {
            int start = _position++;
            while (_position < _text.Length && char.IsDigit(_text[_position]))
            {
                _position++;
            }
            return long.Parse(_text[start.._position], CultureInfo.InvariantCulture);
        }

        var function = ParseIdentifier();
        Expect('(');
        var arguments = new List<object?>();
        SkipSpace();
        if (!Peek(')'))
        {
            do
            {
                arguments.Add(ParseExpression());
                SkipSpace();
            }
            while (TryConsume(','));
        }
        Expect(')');
        return Call(function, arguments);
    }

    private object? Call(string function, List<object?> a) => function.ToLowerInvariant() switch
    {
        "parameters" => Parameter((string)a[0]!),
        "variables" => Evaluate(_template["variables"]?[(string)a[0]!] ?? throw new KeyNotFoundException($"variable {a[0]}")),
        "createarray" => a,
        "concat" when a.All(x => x is string) => string.Concat(a.Cast<string>()),
        "concat" => a.SelectMany(x => (IEnumerable<object?>)x!).ToList(),
        "join" => string.Join((string)a[1]!, ((IEnumerable<object?>)a[0]!).Select(x => Convert.ToString(x, CultureInfo.InvariantCulture))),
        "replace" => ((string)a[0]!).Replace((string)a[1]!, (string)a[2]!, StringComparison.Ordinal),
        "format" => string.Format(CultureInfo.InvariantCulture, (string)a[0]!, [.. a.Skip(1)]),
        "string" => Convert.ToString(a[0], CultureInfo.InvariantCulture),
        "true" => true,
        "false" => false,
        "null" => null,
        _ => throw new NotSupportedException($"ARM function {function}() is not evaluated here"),
    };

    private object? Parameter(string name)
    {
        if (_parameters.TryGetValue(name, out var value))
        {
            return value;
        }
        var declared = _template["parameters"]?[name] ?? throw new KeyNotFoundException($"parameter {name} is not declared");
        return declared["defaultValue"] is { } defaultValue
            ? Evaluate(defaultValue)
            : throw new KeyNotFoundException($"parameter {name} has no value and no default");
    }

    private static object? Member(object? value, string name) => value switch
    {
        JsonObject o => o[name] is JsonValue v && v.TryGetValue(out string? s) ? s : o[name],
        IReadOnlyDictionary<string, object?> d => d[name],
        _ => throw new NotSupportedException($"cannot read .{name} of {value}"),
    };

    private string ParseString()
    {
        Expect('\'');
        var builder = new StringBuilder();
        while (true)
        {
            if (_position >= _text.Length)
            {
                throw new FormatException("Unterminated string literal");
            }
            char c = _text[_position++];
            if (c == '\'')
            {
                if (Peek('\''))
                {
                    builder.Append('\''); // '' is a quote inside a string literal
                    _position++;
                    continue;
                }
                return builder.ToString();
            }
            builder.Append(c);
        }
    }

    private string ParseIdentifier()
    {
        SkipSpace();
        int start = _position;
        while (_position < _text.Length && (char.IsLetterOrDigit(_text[_position]) || _text[_position] is '_' or '$' or '#'))
        {
            _position++;
        }
        if (start == _position)
        {
            throw new FormatException($"Expected a name at {start} in [{_text}]");
        }
        return _text[start.._position];
    }

    private void SkipSpace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }

    private bool Peek(char c) => _position < _text.Length && _text[_position] == c;

    private bool TryConsume(char c)
    {
        SkipSpace();
        if (!Peek(c))
        {
            return false;
        }
        _position++;
        return true;
    }

    private void Expect(char c)
    {
        if (!TryConsume(c))
        {
            throw new FormatException($"Expected '{c}' at {_position} in [{_text}]");
        }
    }
}
