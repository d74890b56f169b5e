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

    /// <summary>
    /// DuckDB's memory limit (its buffer pool; DuckDB's own default is 80% of RAM). <c>auto</c> (the default) sizes it
    /// to the store: 192 MiB plus 48 bytes per indexed row, capped at 60% of the memory the process may use, raised as
    /// the store grows (DuckDB keeps the index nodes a query has read resident; docs/decisions/094). A size such as
    /// <c>512MB</c> fixes it; queries that need more then answer 503 naming this setting.
    /// </summary>
    [RegularExpression(@"^(auto|\d+(\.\d+)?\s?(KB|MB|GB|KiB|MiB|GiB))$", ErrorMessage = "ClickStore:MemoryLimit is auto or a size such as 256MB.")]
    public string MemoryLimit { get; set; } = StoreMemory.Auto;

    /// <summary>
    /// Tests only (not bound from configuration): with <c>auto</c>, open under this limit instead of sizing at open,
    /// as a store that has grown past the limit it was sized with since.
    /// </summary>
    internal string? AutoStartLimit { get; init; }

    /// <summary>DuckDB worker threads. One: the store's statements are small, and the cores belong to the click path.</summary>
    [Range(1, 64)]
    public int Threads { get; set; } = 1;
}
