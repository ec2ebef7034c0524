using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
            .Validate(o => string.IsNullOrEmpty(o.PublicBaseUrl)
                    || (Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Query.Length == 0 && uri.Fragment.Length == 0),
                "Webhooks:PublicBaseUrl must be empty (links use the origin the task was created at) or an absolute http(s) URL such as https://lab.example.com, without a query.")
            .ValidateOnStart();
        builder.Services.AddSingleton(provider => new OutboundAddressPolicy(provider.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowedNetworks));
        builder.Services.TryAddSingleton<ISubmissionOrigin, NoSubmissionOrigin>();
        builder.Services.AddSingleton<WebhookSignal>();
        builder.Services.AddSingleton<WebhookOutbox>();
        builder.Services.AddSingleton<WebhookDeliveryStore>();
        builder.Services.AddSingleton<WebhookAccounts>();
        return builder;
    }
}
