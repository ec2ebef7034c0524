using System.Net;
using BananaLab.Core.Webhooks;
using BananaLab.Web.Webhooks;

namespace BananaLab.Tests.Webhooks;

/// <summary>Every IPv6 form that carries an IPv4 address, as the tables the policy and the connect callback are checked with.</summary>
public static class EmbeddedForms
{
    /// <summary>Each embedded form of a loopback or private IPv4 address, with the form's name.</summary>
    public static TheoryData<string, string> Blocked => new()
    {
        { "::ffff:127.0.0.1", "IPv4-mapped loopback" },
        { "::ffff:10.0.0.1", "IPv4-mapped private" },
        { "::127.0.0.1", "IPv4-compatible loopback" },
        { "::169.254.169.254", "IPv4-compatible link-local (cloud metadata)" },
        { "::ffff:0:7f00:1", "SIIT loopback" },
        { "::ffff:0:192.168.1.1", "SIIT private" },
        { "64:ff9b::7f00:1", "NAT64 loopback" },
        { "64:ff9b::100.64.0.1", "NAT64 CGNAT" },
        { "64:ff9b:1::7f00:1", "local-use NAT64 loopback" },
        { "64:ff9b:1::808:808", "local-use NAT64 range itself, even with a public IPv4" },
        { "2002:7f00:1::1", "6to4 loopback" },
        { "2002:a9fe:a9fe::1", "6to4 link-local (cloud metadata)" },
        { "2001:0:7f00:1::f7f7:f7f7", "Teredo with a loopback server" },
        { "2001:0:808:808::80ff:fffe", "Teredo with a loopback client" },
        { "2001:0:808:808::f5ff:fffe", "Teredo with a private client (10.0.0.1)" },
    };

    /// <summary>Each embedded form of a public IPv4 address.</summary>
    public static TheoryData<string> Public => new()
    {
        "::ffff:8.8.8.8", "::8.8.8.8", "::ffff:0:808:808", "64:ff9b::808:808", "2002:808:808::1", "2001:0:808:808::f7f7:f7f7",
    };
}

public sealed class EmbeddedIPv4Tests
{
    [Theory]
    [InlineData("::ffff:1.2.3.4", "1.2.3.4")]              // RFC 4291 IPv4-mapped
    [InlineData("::1.2.3.4", "1.2.3.4")]                   // RFC 4291 IPv4-compatible
    [InlineData("::ffff:0:1.2.3.4", "1.2.3.4")]            // RFC 2765 SIIT
    [InlineData("64:ff9b::1.2.3.4", "1.2.3.4")]            // RFC 6052 well-known NAT64
    [InlineData("64:ff9b:1:2::1.2.3.4", "1.2.3.4")]        // RFC 8215 local-use NAT64, /96 layout
    [InlineData("2002:102:304::1", "1.2.3.4")]             // RFC 3056 6to4
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "65.54.227.120 192.0.2.45")] // RFC 4380's example: server, client
    [InlineData("::", "")]
    [InlineData("::1", "")]
    [InlineData("::2", "0.0.0.2")]
    [InlineData("2606:4700::1111", "")]
    [InlineData("2001:1::1", "")]
    [InlineData("8.8.8.8", "")]
    public void Each_IPv6_form_that_carries_an_IPv4_address_gives_it_up(string address, string expected) =>
        Assert.Equal(expected, string.Join(' ', EmbeddedIPv4.Extract(IPAddress.Parse(address))));
}

public sealed class EmbeddedIPv4PolicyTests
{
    private static readonly OutboundAddressPolicy Production = new([]);
    private static readonly OutboundAddressPolicy LoopbackAllowed = new(["127.0.0.1/32"]);

    [Theory]
    [MemberData(nameof(EmbeddedForms.Blocked), MemberType = typeof(EmbeddedForms))]
    public void Embedded_private_addresses_are_refused_by_default(string address, string form) =>
        Assert.False(Production.IsAllowed(IPAddress.Parse(address)), form);

    [Theory]
    [MemberData(nameof(EmbeddedForms.Public), MemberType = typeof(EmbeddedForms))]
    public void Embedded_public_addresses_are_allowed(string address) =>
        Assert.True(Production.IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("::127.0.0.1")]
    [InlineData("::ffff:0:127.0.0.1")]
    [InlineData("64:ff9b::127.0.0.1")]
    [InlineData("2002:7f00:1::1")]
    [InlineData("2001:0:808:808::80ff:fffe")]
    public void Allowing_loopback_does_not_allow_forms_that_reach_it_through_a_translator_or_tunnel(string address) =>
        Assert.False(LoopbackAllowed.IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void Allowing_loopback_allows_its_IPv4_mapped_form_which_is_the_same_socket_address()
    {
        Assert.True(LoopbackAllowed.IsAllowed(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(LoopbackAllowed.IsAllowed(IPAddress.Parse("::ffff:127.0.0.2")));
    }

    [Fact]
    public void An_allowed_IPv6_network_is_the_operators_explicit_choice() =>
        Assert.True(new OutboundAddressPolicy(["64:ff9b::/96"]).IsAllowed(IPAddress.Parse("64:ff9b::10.0.0.1")));

    [Theory]
    [MemberData(nameof(EmbeddedForms.Blocked), MemberType = typeof(EmbeddedForms))]
    public void The_connect_callback_refuses_embedded_private_addresses_before_any_socket_opens(string address, string form)
    {
        var error = Record.Exception(() => GuardedHttpHandler.AllowedAddresses(Production, "hook.example.test", [IPAddress.Parse(address)]));
        Assert.True(error is HttpRequestException, form);
        Assert.Contains("private or reserved", error.Message);
    }

    [Fact]
    public void The_connect_callback_keeps_only_the_allowed_addresses_of_a_host()
    {
        var resolved = new[] { IPAddress.Parse("::127.0.0.1"), IPAddress.Parse("64:ff9b::a00:1"), IPAddress.Parse("8.8.8.8") };
        Assert.Equal(new[] { IPAddress.Parse("8.8.8.8") }, GuardedHttpHandler.AllowedAddresses(LoopbackAllowed, "mixed.example.test", resolved));
    }

    [Fact]
    public void The_connect_callback_connects_to_an_IPv4_mapped_address_as_the_IPv4_address_it_was_judged_as() =>
        Assert.Equal(new[] { IPAddress.Loopback }, GuardedHttpHandler.AllowedAddresses(LoopbackAllowed, "::ffff:127.0.0.1", [IPAddress.Parse("::ffff:127.0.0.1")]));
}
