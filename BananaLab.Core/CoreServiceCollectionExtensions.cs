using BananaLab.Core.Catalog;
using BananaLab.Core.Cluster;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Data.Postgres;
using BananaLab.Core.Generation;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Sessions;
using BananaLab.Core.Moderation;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Core.Webhooks;
using BananaLab.Core.Workers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

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
        AddDatabase(services, DatabaseOptions.Read(configuration));
        AddCluster(services, configuration);

        services.AddSingleton<Readiness>();
        services.AddHostedService<DatabaseInitializer>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<GenerationProviders>();
        services.AddSingleton<GenerationOffers>();
        services.AddSingleton<WorkerDirectory>();
        services.AddSingleton<ModelAvailability>();
        // A process with a worker replaces this with the models its worker runs (AddBananaLabWorker).
        services.TryAddSingleton(LocalWorkerModels.None);
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
        services.AddSingleton<GenerationTimings>(provider => new GenerationTimings(provider.GetRequiredService<TaskNotifier>()));
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
        services.AddSingleton<AccountRevocations>();
        return builder;
    }

    /// <summary>
    /// The node's name, and the state other nodes must see: in this process alone, or in Redis (with the
    /// connection to it) when the cluster has one.
    /// </summary>
    private static void AddCluster(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        if (!ClusterOptions.UsesRedis(configuration))
        {
            services.AddSingleton<IClusterBroadcast, InProcessBroadcast>();
            services.AddSingleton<IClientSessionStore, DatabaseClientSessionStore>();
            return;
        }
        services.AddSingleton<IConnectionMultiplexer>(provider =>
            RedisConnection.Connect(configuration, provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RedisConnection))));
        services.AddHostedService<RedisTaskEventRelay>();
        services.AddSingleton<IClusterBroadcast, RedisBroadcast>();
        services.AddSingleton<IClientSessionStore, RedisClientSessionStore>();
    }

    /// <summary>One database engine per process, chosen by <c>Database:Provider</c>.</summary>
    private static void AddDatabase(IServiceCollection services, DatabaseOptions options)
    {
        services.AddSingleton(options);
        switch (options.Provider)
        {
            case DatabaseEngine.Postgres:
                services.AddSingleton<PostgresDatabaseProvider>();
                services.AddSingleton<IDatabaseProvider>(provider => provider.GetRequiredService<PostgresDatabaseProvider>());
                services.AddPooledDbContextFactory<PostgresDbContext>((provider, db) =>
                    provider.GetRequiredService<IDatabaseProvider>().Configure(db));
                services.AddSingleton<IDbContextFactory<BananaLabDbContext>, DerivedDbContextFactory<PostgresDbContext>>();
                break;
            default:
                services.AddSingleton<IDatabaseProvider, SqliteDatabaseProvider>();
                services.AddPooledDbContextFactory<BananaLabDbContext>((provider, db) =>
                    provider.GetRequiredService<IDatabaseProvider>().Configure(db));
                break;
        }
    }
}
