using BananaLab.Core.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace BananaLab.Core.Cluster;

public static class ClusterSetup
{
    /// <summary>
    /// The node's name, and the state other nodes must see: in this process alone, or in Redis (with the
    /// connection to it) when the cluster has one.
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabCluster(this IHostApplicationBuilder builder)
    {
        var (services, configuration) = (builder.Services, builder.Configuration);
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        if (!ClusterOptions.UsesRedis(configuration))
        {
            services.AddSingleton<IClusterBroadcast, InProcessBroadcast>();
            services.AddSingleton<IClientSessionStore, DatabaseClientSessionStore>();
            return builder;
        }
        services.AddSingleton<IConnectionMultiplexer>(provider =>
            RedisConnection.Connect(configuration, provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RedisConnection))));
        services.AddHostedService<RedisTaskEventRelay>();
        services.AddSingleton<IClusterBroadcast, RedisBroadcast>();
        services.AddSingleton<IClientSessionStore, RedisClientSessionStore>();
        return builder;
    }
}
