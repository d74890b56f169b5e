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
    /// DuckDB's memory limit (its buffer pool; DuckDB's own default is 80% of RAM). The store's working set is
    /// small (recent rollup pages and indexes); this keeps the whole host's resident memory predictable.
    /// </summary>
    [RegularExpression(@"^\d+(\.\d+)?\s?(KB|MB|GB|KiB|MiB|GiB)$", ErrorMessage = "ClickStore:MemoryLimit is a size such as 256MB.")]
    public string MemoryLimit { get; set; } = "192MB";

    /// <summary>DuckDB worker threads. One: the store's statements are small, and the cores belong to the click path.</summary>
    [Range(1, 64)]
    public int Threads { get; set; } = 1;
}
