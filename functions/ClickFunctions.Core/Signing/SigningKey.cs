namespace ClickFunctions.Signing;

/// <summary>An HMAC-SHA256 key with the id that click URLs carry in <c>kid</c>.</summary>
public sealed class SigningKey
{
    public SigningKey(string id, byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (!ClickUrlFields.IsValidId(id))
        {
            throw new ArgumentException("A key id is 1-64 characters of A-Z a-z 0-9 . _ ~ -.", nameof(id));
        }
        if (secret.Length < 32)
        {
            throw new ArgumentException("A click-signing key must be at least 256 bits.", nameof(secret));
        }
        Id = id;
        Secret = secret.ToArray();
    }

    public string Id { get; }

    internal byte[] Secret { get; }
}

/// <summary>The keys a verifier accepts: the current one (also used to sign) and, during rotation, the previous one.</summary>
public sealed class SigningKeyRing
{
    public SigningKeyRing(SigningKey current, SigningKey? previous = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (previous is not null && previous.Id == current.Id)
        {
            throw new ArgumentException("The previous key must have a different id from the current key.", nameof(previous));
        }
        Current = current;
        Previous = previous;
    }

    public SigningKey Current { get; }

    public SigningKey? Previous { get; }

    public SigningKey? Find(string keyId) =>
        keyId == Current.Id ? Current : keyId == Previous?.Id ? Previous : null;
}
