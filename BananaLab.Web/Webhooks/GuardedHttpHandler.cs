using System.Net;
using System.Net.Sockets;
using BananaLab.Core.Webhooks;

namespace BananaLab.Web.Webhooks;

/// <summary>
/// The only way webhooks reach the network: every connection resolves the host itself and connects only to an
/// address the <see cref="OutboundAddressPolicy"/> allows, so DNS tricks cannot steer a webhook into the private
/// network. Redirects are not followed: a receiver's 3xx is a failed attempt, as with most webhook senders, so a
/// Location header can neither leave http(s) nor lead anywhere the policy has not judged.
/// </summary>
public static class GuardedHttpHandler
{
    public static SocketsHttpHandler Create(OutboundAddressPolicy policy) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, cancellationToken);
            var allowed = AllowedAddresses(policy, host, addresses);

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>
    /// The addresses of <paramref name="host"/> a socket may connect to, IPv4-mapped ones as the IPv4 address the
    /// policy judged them as; throws when none is allowed.
    /// </summary>
    public static IPAddress[] AllowedAddresses(OutboundAddressPolicy policy, string host, IEnumerable<IPAddress> resolved)
    {
        var allowed = resolved.Where(policy.IsAllowed).Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToArray();
        if (allowed.Length == 0)
            throw new HttpRequestException($"Refused to connect to {host}: it resolves only to private or reserved addresses.");
        return allowed;
    }
}
