using System.ComponentModel.DataAnnotations;
using ClickFunctions.Signing;
using Microsoft.Extensions.Options;

namespace ClickFunctions.Hosting.Options;

/// <summary>Section <c>ClickSigning</c>: the current key (signs and verifies) and, during rotation, the previous one (verifies).</summary>
public sealed class ClickSigningOptions
{
    public const string Section = "ClickSigning";

    [Required]
    public string KeyId { get; set; } = "";

    /// <summary>Base64, at least 32 bytes.</summary>
    [Required]
    public string Key { get; set; } = "";

    public string? PreviousKeyId { get; set; }

    public string? PreviousKey { get; set; }

    public SigningKeyRing ToKeyRing()
    {
        var current = new SigningKey(KeyId, Convert.FromBase64String(Key));
        var previous = string.IsNullOrEmpty(PreviousKeyId) || string.IsNullOrEmpty(PreviousKey)
            ? null
            : new SigningKey(PreviousKeyId, Convert.FromBase64String(PreviousKey));
        return new SigningKeyRing(current, previous);
    }
}

/// <summary>Checks what data annotations cannot: key ids, base64, key length, the previous key pair.</summary>
public sealed class ClickSigningOptionsValidator : IValidateOptions<ClickSigningOptions>
{
    public ValidateOptionsResult Validate(string? name, ClickSigningOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.PreviousKeyId) != string.IsNullOrEmpty(options.PreviousKey))
        {
            return ValidateOptionsResult.Fail("ClickSigning:PreviousKeyId and ClickSigning:PreviousKey go together: set both or neither.");
        }
        try
        {
            _ = options.ToKeyRing();
            return ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return ValidateOptionsResult.Fail($"ClickSigning is invalid: {e.Message} (keys are base64 of at least 32 random bytes).");
        }
    }
}
