using System.ComponentModel.DataAnnotations;
using BananaLab.Web.Proxies;

namespace BananaLab.Tests.Proxies;

public sealed class TrustedProxiesOptionsTests
{
    private static List<string> Problems(TrustedProxiesOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage!)];
    }

    [Fact]
    public void No_proxies_is_valid_and_the_default()
    {
        var options = new TrustedProxiesOptions();

        Assert.Empty(options.KnownProxies);
        Assert.Empty(options.KnownNetworks);
        Assert.Empty(Problems(options));
    }

    [Fact]
    public void A_malformed_proxy_or_network_is_refused_naming_the_key_to_fix()
    {
        var problems = Problems(new TrustedProxiesOptions { KnownProxies = ["10.0.0.5", "proxy.local"], KnownNetworks = ["10.0.0.0/24", "10.0.0.0/99"] });

        Assert.Equal(
            ["ForwardedHeaders:KnownProxies: 'proxy.local' is not an IP address.",
             "ForwardedHeaders:KnownNetworks: '10.0.0.0/99' is not a network in CIDR form (like 10.0.0.0/24)."],
            problems);
    }
}
