using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BananaLab.Core.Cluster;

/// <summary>
/// Tells every node that something it may have cached has changed (a revoked API key, a disabled account,
/// an admin's moderation term). Handlers must be idempotent and quick: a node may hear a message twice.
/// </summary>
public interface IClusterBroadcast
{
    /// <summary>Calls <paramref name="handler"/> with every message on <paramref name="topic"/>, from any node.</summary>
    void Subscribe(string topic, Action<string> handler);

    /// <summary>Delivers <paramref name="message"/> to this process's subscribers at once, then to the other nodes'.</summary>
    Task PublishAsync(string topic, string message);
}

/// <summary>A single process: a message reaches this process's subscribers only.</summary>
public class InProcessBroadcast : IClusterBroadcast
{
    private readonly ConcurrentDictionary<string, ImmutableArray<Action<string>>> _handlers = new();

    public virtual void Subscribe(string topic, Action<string> handler) =>
        _handlers.AddOrUpdate(topic, [handler], (_, handlers) => handlers.Add(handler));

    public virtual Task PublishAsync(string topic, string message)
    {
        Deliver(topic, message);
        return Task.CompletedTask;
    }

    protected void Deliver(string topic, string message)
    {
        if (!_handlers.TryGetValue(topic, out var handlers)) return;
        foreach (var handler in handlers) handler(message);
    }
}

/// <summary>
/// A cluster: each topic is the Redis channel <c>{prefix}:{topic}</c>. The publisher hears its own message
/// once at once and once more through Redis. When Redis is unreachable the other nodes miss the message and
/// fall back on their caches' own lifetimes, so a publish never fails the user's action.
/// </summary>
public sealed class RedisBroadcast(IConnectionMultiplexer redis, IOptions<ClusterOptions> cluster, ILogger<RedisBroadcast> logger)
    : InProcessBroadcast
{
    private readonly ConcurrentDictionary<string, bool> _channels = new();

    public override void Subscribe(string topic, Action<string> handler)
    {
        base.Subscribe(topic, handler);
        if (!_channels.TryAdd(topic, true)) return;
        // Not awaited: subscribers are constructed by DI. The multiplexer keeps the subscription and renews it
        // after every reconnect, so a failure here only delays it.
        redis.GetSubscriber()
            .SubscribeAsync(Channel(topic), (_, message) => DeliverFromRedis(topic, message))
            .ContinueWith(t => logger.LogWarning(t.Exception, "Subscribing to Redis channel {Channel} failed; retrying on reconnect", Channel(topic)),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    public override async Task PublishAsync(string topic, string message)
    {
        Deliver(topic, message);
        if (!redis.IsConnected)
        {
            logger.LogWarning("Redis is unreachable; other nodes miss {Channel} {Message}", Channel(topic), message);
            return;
        }
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel(topic), message);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning(e, "Publishing on Redis failed; other nodes miss {Channel} {Message}", Channel(topic), message);
        }
    }

    private void DeliverFromRedis(string topic, RedisValue message)
    {
        try
        {
            Deliver(topic, message.ToString());
        }
        catch (Exception e)
        {
            logger.LogError(e, "Handling {Channel} {Message} failed", Channel(topic), message.ToString());
        }
    }

    private RedisChannel Channel(string topic) => RedisChannel.Literal(cluster.Value.RedisKey(topic));
}
