using BananaLab.Core.Catalog;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Sessions;
using BananaLab.Core.Moderation;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Core.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Core;

public static class CoreServiceCollectionExtensions
{
    /// <summary>The domain: database, catalog, credits, users, moderation and the task engine.</summary>
    public static IHostApplicationBuilder AddBananaLabCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CreditsOptions>().Bind(configuration.GetSection(CreditsOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BootstrapOptions>().Bind(configuration.GetSection(BootstrapOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BootstrapOptions>, BootstrapOptionsValidator>();
        services.AddOptions<ModelCatalogOptions>()
            .Configure(options => configuration.GetSection(ModelCatalogOptions.Section).Bind(options.Models))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelCatalogOptions>, ModelCatalogOptionsValidator>();
        services.AddOptions<ModerationOptions>().Bind(configuration.GetSection(ModerationOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SessionOptions>().Bind(configuration.GetSection(SessionOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();

        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.AllowedNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "Webhooks:AllowedNetworks must list CIDR networks such as 127.0.0.1/32.")
            .Validate(o => Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out _), "Webhooks:PublicBaseUrl must be an absolute URL.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IDatabaseProvider, SqliteDatabaseProvider>();
        services.AddPooledDbContextFactory<BananaLabDbContext>((provider, options) =>
            provider.GetRequiredService<IDatabaseProvider>().Configure(options));

        services.AddSingleton<Readiness>();
        services.AddHostedService<DatabaseInitializer>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<CreditLedger>();
        services.AddSingleton<UserService>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<ImageStore>();
        services.AddSingleton<PromptModerator>();
        services.TryAddSingleton<IPromptModerator>(provider => provider.GetRequiredService<PromptModerator>());
        services.TryAddSingleton<IImageModerator, NoImageClassifier>();
        services.AddSingleton<ModerationTermsService>();
        services.AddSingleton<ModerationLog>();
        services.AddSingleton<TaskNotifier>();
        services.AddSingleton<ActiveTaskSnapshots>();
        services.AddSingleton<TaskQueueSignal>();
        services.AddSingleton<RunningTasks>();
        services.AddSingleton<TaskQueue>();
        services.AddSingleton<TaskService>();
        services.AddSingleton<IdempotencyStore>();
        services.AddSingleton(provider => new OutboundAddressPolicy(provider.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowedNetworks));
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<WebhookDeliveryStore>();
        services.AddSingleton<WebhookAccounts>();
        services.AddSingleton<ClientSessionService>();
        return builder;
    }
}
