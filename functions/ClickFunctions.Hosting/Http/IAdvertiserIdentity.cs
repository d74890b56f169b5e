using Microsoft.AspNetCore.Http;

namespace ClickFunctions.Hosting.Http;

/// <summary>
/// Who is asking: the advertiser a query request is authenticated as, or <see langword="null"/> (401). The local
/// host resolves an <c>X-Api-Key</c> header (<see cref="ApiKeyAdvertiserIdentity"/>); the Azure host maps its
/// Easy Auth principal instead. The query handlers only ever see the resolved advertiser id.
/// </summary>
public interface IAdvertiserIdentity
{
    ValueTask<string?> ResolveAsync(HttpContext context, CancellationToken cancellationToken);
}
