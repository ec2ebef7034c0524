using System.Net;

namespace BananaLab.Core.Webhooks;

/// <summary>
/// Decides which addresses outbound webhook connections may reach: never loopback, private, link-local,
/// CGNAT, multicast, reserved or cloud-metadata ranges, in IPv4 or IPv6, nor an IPv6 address whose embedded IPv4
/// (see <see cref="EmbeddedIPv4"/>) is one of those, unless a network is explicitly allowed by configuration
/// (tests allow 127.0.0.1/32 this way). The same decision is made at submit and for the address each socket connects to.
/// </summary>
/// <remarks>
/// How an allowed network meets the embedded forms: an allowed IPv4 network also allows its IPv4-mapped form
/// (<c>::ffff:127.0.0.1</c> is the very same socket address as <c>127.0.0.1</c>), but no other form. The others
/// (IPv4-compatible, SIIT, NAT64, 6to4, Teredo) reach the IPv4 through a translator or tunnel, on another machine,
/// so "127.0.0.1 is allowed" says nothing about them: a blocked embedded IPv4 refuses them unless the IPv6 address
/// itself lies in an allowed IPv6 network.
/// </remarks>
public sealed class OutboundAddressPolicy(IEnumerable<string> allowedNetworks)
{
    private static readonly IPNetwork[] Blocked =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("192.88.99.0/24"),
        IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("3fff::/20"),
        IPNetwork.Parse("100::/64"), IPNetwork.Parse("2001:2::/48"), IPNetwork.Parse("2001:10::/28"), IPNetwork.Parse("2001:20::/28"),
        IPNetwork.Parse("5f00::/16"),
        // RFC 8215 local-use NAT64: not globally reachable, and where its IPv4 sits is the local operator's choice.
        IPNetwork.Parse("64:ff9b:1::/48"),
    ];

    private readonly IPNetwork[] _allowed = allowedNetworks.Select(IPNetwork.Parse).ToArray();

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (_allowed.Any(n => n.Contains(address))) return true;
        if (Blocked.Any(n => n.Contains(address))) return false;
        return !EmbeddedIPv4.Extract(address).Any(ipv4 => Blocked.Any(n => n.Contains(ipv4)));
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
            var embedded = EmbeddedIPv4.Extract(address);
            error = embedded.Count == 0
                ? "The webhook URL points to a private or reserved address, which webhooks may not reach."
                : $"The webhook URL's address {address} embeds the IPv4 address {string.Join(" and ", embedded)}, judged as that address: "
                    + "it points to a private or reserved address, which webhooks may not reach.";
            return false;
        }
        return true;
    }
}
