using System.Net;
using System.Net.Sockets;

namespace BananaLab.Core.Webhooks;

/// <summary>
/// The one place that knows which IPv6 forms carry an IPv4 address, so <see cref="OutboundAddressPolicy"/> can judge
/// the IPv4 host such an address really reaches:
/// <list type="bullet">
/// <item>IPv4-mapped <c>::ffff:a.b.c.d</c> (RFC 4291 §2.5.5.2): the same host as <c>a.b.c.d</c> on a dual-stack socket.</item>
/// <item>IPv4-compatible <c>::a.b.c.d</c> (RFC 4291 §2.5.5.1, deprecated); <c>::</c> and <c>::1</c> are not this form.</item>
/// <item>SIIT IPv4-translated <c>::ffff:0:a.b.c.d</c> (RFC 2765 §2.1).</item>
/// <item>NAT64 well-known prefix <c>64:ff9b::/96</c> (RFC 6052 §2.1), IPv4 in the last 32 bits.</item>
/// <item>NAT64 local-use prefix <c>64:ff9b:1::/48</c> (RFC 8215), read in the /96 layout of RFC 6052 §2.2 (IPv4 in the
/// last 32 bits); the layout is the operator's choice, which is why the policy refuses this range unless allowed.</item>
/// <item>6to4 <c>2002::/16</c> (RFC 3056 §2): the IPv4 is bits 16–47.</item>
/// <item>Teredo <c>2001::/32</c> (RFC 4380 §4): the server's IPv4 is bits 32–63 and the client's is the last 32 bits
/// with every bit inverted; both are returned, server first.</item>
/// </list>
/// </summary>
public static class EmbeddedIPv4
{
    /// <summary>The IPv4 addresses embedded in <paramref name="address"/>; empty for IPv4 and for IPv6 addresses of no such form.</summary>
    public static IReadOnlyList<IPAddress> Extract(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return [];
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);

        if (IsZero(b[..10]) && b[10] == 0xff && b[11] == 0xff) return [Last32(b)];                         // ::ffff:a.b.c.d
        if (IsZero(b[..12]) && (!IsZero(b[12..15]) || b[15] > 1)) return [Last32(b)];                         // ::a.b.c.d, not :: or ::1
        if (IsZero(b[..8]) && b[8] == 0xff && b[9] == 0xff && IsZero(b[10..12])) return [Last32(b)];           // ::ffff:0:a.b.c.d
        if (b[..12].SequenceEqual(Nat64WellKnown)) return [Last32(b)];                                        // 64:ff9b::/96
        if (b[..6].SequenceEqual(Nat64LocalUse)) return [Last32(b)];                                          // 64:ff9b:1::/48
        if (b[0] == 0x20 && b[1] == 0x02) return [new IPAddress(b[2..6])];                                   // 2002::/16
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)                                          // 2001::/32
        {
            Span<byte> client = stackalloc byte[4];
            for (var i = 0; i < 4; i++) client[i] = (byte)~b[12 + i];
            return [new IPAddress(b[4..8]), new IPAddress(client)];
        }
        return [];
    }

    private static ReadOnlySpan<byte> Nat64WellKnown => [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
    private static ReadOnlySpan<byte> Nat64LocalUse => [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01];

    private static IPAddress Last32(ReadOnlySpan<byte> bytes) => new(bytes[12..]);

    private static bool IsZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);
}
