using BananaLab.Core.Cluster;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BananaLab.Web.RateLimits;

/// <summary>
/// The buckets of a cluster, shared by every node: a hash per bucket under <c>{prefix}:ratelimit:{key}</c>,
/// updated by one Lua script on the Redis server's clock, so the nodes' clocks do not matter. When Redis is
/// unreachable, requests are allowed (an outage of the limiter must not become an outage of the API).
/// </summary>
public sealed class RedisRateLimitStore(
    IConnectionMultiplexer redis,
    IOptions<ClusterOptions> cluster,
    TimeProvider clock,
    ILogger<RedisRateLimitStore> logger) : IRateLimitStore
{
    // ARGV: capacity, tokens per second. Returns {1 if allowed, milliseconds until the next token}.
    // The hash expires once the bucket would be full again, which is the same as not existing.
    private const string TakeScript = """
        local capacity = tonumber(ARGV[1])
        local perMs = tonumber(ARGV[2]) / 1000
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(bucket[1]) or capacity
        local at = tonumber(bucket[2]) or now
        tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
        local allowed, retryMs = 0, 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        else
          retryMs = math.ceil((1 - tokens) / perMs)
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
        redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / perMs) + 1000)
        return { allowed, retryMs }
        """;

    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);
    private long _lastWarning;

    public async ValueTask<RateLimitDecision> TryTakeAsync(string key, int capacity, double refillPerSecond)
    {
        // A disconnected multiplexer would hold the command until its timeout; answer at once instead.
        if (!redis.IsConnected) return FailOpen(null);
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(TakeScript,
                [cluster.Value.RedisKey("ratelimit:" + key)], [capacity, refillPerSecond]))!;
            return (int)result[0] == 1 ? RateLimitDecision.Allow : new RateLimitDecision(false, TimeSpan.FromMilliseconds((long)result[1]));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return FailOpen(e);
        }
    }

    private RateLimitDecision FailOpen(Exception? error)
    {
        var now = clock.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if ((last == 0 || clock.GetElapsedTime(last, now) >= WarningInterval) && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
            logger.LogWarning(error, "Redis is unreachable: requests are not rate-limited until it is back");
        return RateLimitDecision.Allow;
    }
}
