using System.Collections.Concurrent;

namespace BananaLab.Web.RateLimits;

/// <summary>Whether a request may go ahead, and if not, how long until its bucket holds a token again.</summary>
public readonly record struct RateLimitDecision(bool Allowed, TimeSpan RetryAfter)
{
    public static readonly RateLimitDecision Allow = new(true, TimeSpan.Zero);
}

/// <summary>
/// Token buckets by name: each holds up to <c>capacity</c> tokens, gains <c>refillPerSecond</c> a second
/// and gives one per allowed request. A bucket nobody has used is full.
/// </summary>
public interface IRateLimitStore
{
    ValueTask<RateLimitDecision> TryTakeAsync(string key, int capacity, double refillPerSecond);
}

/// <summary>The buckets of a single node, in this process.</summary>
public sealed class InMemoryRateLimitStore(TimeProvider clock) : IRateLimitStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new();
    private long _lastSweep;

    public ValueTask<RateLimitDecision> TryTakeAsync(string key, int capacity, double refillPerSecond)
    {
        var now = clock.GetTimestamp();
        SweepFullBuckets(now);
        var bucket = _buckets.GetOrAdd(key, static (_, state) => new Bucket(state.capacity, state.now), (capacity, now));
        lock (bucket)
        {
            var elapsed = Math.Max(0, now - bucket.CountedAt) / (double)clock.TimestampFrequency;
            bucket.Tokens = Math.Min(capacity, bucket.Tokens + elapsed * refillPerSecond);
            bucket.CountedAt = Math.Max(bucket.CountedAt, now);
            var allowed = bucket.Tokens >= 1;
            if (allowed) bucket.Tokens -= 1;
            bucket.FullAt = bucket.CountedAt + (long)((capacity - bucket.Tokens) / refillPerSecond * clock.TimestampFrequency);
            return ValueTask.FromResult(allowed
                ? RateLimitDecision.Allow
                : new RateLimitDecision(false, TimeSpan.FromSeconds((1 - bucket.Tokens) / refillPerSecond)));
        }
    }

    /// <summary>Once a minute, drops buckets that have refilled: a missing bucket is a full one, so callers by address do not pile up.</summary>
    private void SweepFullBuckets(long now)
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (clock.GetElapsedTime(last, now) < SweepInterval || Interlocked.CompareExchange(ref _lastSweep, now, last) != last) return;
        foreach (var (key, bucket) in _buckets)
            if (Volatile.Read(ref bucket.FullAt) <= now) _buckets.TryRemove(key, out _);
    }

    private sealed class Bucket(double tokens, long countedAt)
    {
        public double Tokens = tokens;
        public long CountedAt = countedAt;
        /// <summary>When the bucket is full again if nobody takes from it.</summary>
        public long FullAt = countedAt;
    }
}
