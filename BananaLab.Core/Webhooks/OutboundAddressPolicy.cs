using System.Net;
using System.Net.Sockets;

namespace BananaLab.Core.Webhooks;

/// <summary>
/// Decides which addresses outbound webhook connections may reach: never loopback, private, link-local,
/// CGNAT, multicast, reserved or cloud-metadata ranges (IPv4 and IPv6, including IPv4-mapped and NAT64
/// forms), unless a network is explicitly allowed by configuration (tests allow loopback this way).
/// </summary>
public sealed class OutboundAddressPolicy(IEnumerable<string> allowedNetworks)
{
    private static readonly IPNetwork[] Blocked =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("100::/64"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly IPNetwork[] _allowed = allowedNetworks.Select(IPNetwork.Parse).ToArray();

    public bool IsAllowed(IPAddress address)
    {
        if (_allowed.Any(n => n.Contains(address))) return true;
        if (address.IsIPv4MappedToIPv6) return IsAllowed(address.MapToIPv4());
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && Nat64.Contains(address))
            return IsAllowed(new IPAddress(address.GetAddressBytes()[12..]));
        return !Blocked.Any(n => n.Contains(address));
    }

    /// <summary>Checks a URL's form (absolute http or https) and, when its host is an IP literal, its address.</summary>
    public bool TryValidateUrl(string? url, out string error)
    {
        error = "";
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            error = "The webhook URL must be an absolute http or https URL without credentials.";
            return false;
        }
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && !IsAllowed(address))
        {
            error = "The webhook URL points to a private or reserved address, which webhooks may not reach.";
            return false;
        }
        return true;
    }
}
