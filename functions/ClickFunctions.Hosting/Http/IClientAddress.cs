using System.Net;
using Microsoft.AspNetCore.Http;

namespace ClickFunctions.Hosting.Http;

/// <summary>
/// Where a click came from. Without a registration the click handler uses the connection's peer address, which is
/// right for the local host (Kestrel faces the client). A host behind a platform front end registers one that reads
/// the address the front end forwards, trusting only what the front end itself set.
/// </summary>
public interface IClientAddress
{
    IPAddress? Resolve(HttpContext context);
}
