using System.ComponentModel.DataAnnotations;

namespace ClickFunctions.Embedded.Store;

/// <summary>Configuration section <c>ClickStore</c>.</summary>
public sealed class ClickStoreOptions
{
    public const string Section = "ClickStore";

    public const string FileName = "clicks.duckdb";

    /// <summary>The DuckDB file (the local host uses {data-dir}/clicks.duckdb).</summary>
    [Required]
    public string Path { get; set; } = "";
}
