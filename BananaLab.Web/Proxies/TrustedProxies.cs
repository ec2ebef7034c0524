using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace BananaLab.Web.Proxies;

/// <summary>
/// The reverse proxies whose <c>X-Forwarded-For</c>/<c>X-Forwarded-Proto</c> are believed. Empty by default: then
/// the address is the TCP peer's, and a client cannot pick its own rate-limit bucket by sending the header.
/// </summary>
public sealed class TrustedProxiesOptions : IValidatableObject
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Proxy addresses, e.g. <c>"10.0.0.5"</c>.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Proxy networks in CIDR form, e.g. <c>"10.0.0.0/24"</c>.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxies deep to read the header (one per proxy between the client and this host).</summary>
    [Range(1, 10, ErrorMessage = "ForwardedHeaders:ForwardLimit must be between 1 and 10.")]
    public int ForwardLimit { get; set; } = 1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
            yield return new($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n, out _)))
            yield return new($"ForwardedHeaders:KnownNetworks: '{network}' is not a network in CIDR form (like 10.0.0.0/24).", [nameof(KnownNetworks)]);
    }
}

/// <summary>ASP.NET Core's forwarded-headers middleware, believing only the configured proxies.</summary>
public static class TrustedProxies
{
    public static IHostApplicationBuilder AddBananaLabForwardedHeaders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrustedProxiesOptions>().Bind(builder.Configuration.GetSection(TrustedProxiesOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<TrustedProxiesOptions>>((options, trusted) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = trusted.Value.ForwardLimit;
            // The framework trusts loopback by default; here nothing is trusted unless configured.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in trusted.Value.KnownProxies) options.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in trusted.Value.KnownNetworks) options.KnownIPNetworks.Add(IPNetwork.Parse(network));
        });
        return builder;
    }

    /// <summary>First in the pipeline, so that everything after it (rate limits, logs) sees the client's own address.</summary>
    public static IApplicationBuilder UseBananaLabForwardedHeaders(this IApplicationBuilder app) => app.UseForwardedHeaders();
}
