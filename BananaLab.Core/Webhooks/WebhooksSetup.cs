using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Webhooks;

public static class WebhooksSetup
{
    /// <summary>The webhook outbox, its deliveries, the accounts' endpoints and the addresses they may reach.</summary>
    public static IHostApplicationBuilder AddBananaLabWebhookOutbox(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().Bind(builder.Configuration.GetSection(WebhookOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.AllowedNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "Webhooks:AllowedNetworks must list CIDR networks such as 127.0.0.1/32.")
            .Validate(o => Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out _), "Webhooks:PublicBaseUrl must be an absolute URL.")
            .ValidateOnStart();
        builder.Services.AddSingleton(provider => new OutboundAddressPolicy(provider.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowedNetworks));
        builder.Services.AddSingleton<WebhookSignal>();
        builder.Services.AddSingleton<WebhookOutbox>();
        builder.Services.AddSingleton<WebhookDeliveryStore>();
        builder.Services.AddSingleton<WebhookAccounts>();
        return builder;
    }
}
