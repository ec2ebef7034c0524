using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace BananaLab.Core.Cluster;

/// <summary>
/// The process's one connection to Redis. It is opened at start without waiting for the server
/// (<c>abortConnect=false</c>) and reconnects by itself, so a Redis restart makes <c>/readyz</c> fail
/// for a while instead of stopping the node.
/// </summary>
public static class RedisConnection
{
    public static IConnectionMultiplexer Connect(IConfiguration configuration, ILogger logger)
    {
        var connectionString = configuration.GetConnectionString(ClusterOptions.RedisConnectionStringName)!;
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"ConnectionStrings:Redis is not a valid Redis configuration: {e.Message}", e);
        }
        options.AbortOnConnectFail = false;
        options.ClientName ??= "bananalab";
        var connection = ConnectionMultiplexer.Connect(options);
        connection.ConnectionFailed += (_, e) => logger.LogWarning("Redis connection lost ({Failure}); retrying", e.FailureType);
        connection.ConnectionRestored += (_, _) => logger.LogInformation("Redis connection restored");
        return connection;
    }
}
