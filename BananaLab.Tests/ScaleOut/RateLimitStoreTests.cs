using System.Net.Http.Json;
using System.Net;
using BananaLab.Core.Cluster;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.RateLimits;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BananaLab.Tests.ScaleOut;

/// <summary>The token bucket of both stores, and the Redis one shared by separate connections.</summary>
public sealed class RateLimitStoreTests : IAsyncLifetime
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N");
    private readonly List<IConnectionMultiplexer> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
    }

    public static TheoryData<string> Stores => ["memory", "redis"];

    [Theory, MemberData(nameof(Stores))]
    public async Task An_empty_bucket_refuses_and_says_when_its_next_token_comes(string kind)
    {
        var store = await StoreAsync(kind);
        const double perSecond = 0.001; // one token every 1000 s: nothing refills during the test

        var decisions = new List<RateLimitDecision>();
        for (var i = 0; i < 3; i++) decisions.Add(await store.TryTakeAsync("empty", capacity: 2, perSecond));

        Assert.Equal([true, true, false], decisions.Select(d => d.Allowed));
        Assert.InRange(decisions[2].RetryAfter, TimeSpan.FromSeconds(990), TimeSpan.FromSeconds(1000));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task A_bucket_refills_at_the_configured_rate(string kind)
    {
        var store = await StoreAsync(kind);

        Assert.True((await store.TryTakeAsync("refill", capacity: 1, refillPerSecond: 2)).Allowed);
        var refused = await store.TryTakeAsync("refill", capacity: 1, refillPerSecond: 2);
        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(500));

        await Task.Delay(TimeSpan.FromSeconds(1)); // two tokens' worth; the bucket holds one
        Assert.True((await store.TryTakeAsync("refill", capacity: 1, refillPerSecond: 2)).Allowed);
    }

    [Fact]
    public async Task Separate_connections_take_from_one_bucket_that_expires_once_full_again()
    {
        var (one, two) = (await StoreAsync("redis"), await StoreAsync("redis"));

        var allowed = 0;
        for (var i = 0; i < 8; i++)
            if ((await (i % 2 == 0 ? one : two).TryTakeAsync("shared", capacity: 4, refillPerSecond: 1)).Allowed) allowed++;

        Assert.InRange(allowed, 4, 5); // 4 at once, and at most one more if the loop took over a second
        var ttl = await _connections[0].GetDatabase().KeyTimeToLiveAsync($"{_prefix}:ratelimit:shared");
        Assert.InRange(ttl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(5)); // 4 s to refill, plus 1 s
    }

    private async Task<IRateLimitStore> StoreAsync(string kind)
    {
        if (kind == "memory") return new InMemoryRateLimitStore(TimeProvider.System);
        var connection = await ConnectionMultiplexer.ConnectAsync((await RedisServer.Shared).ConnectionString);
        _connections.Add(connection);
        return new RedisRateLimitStore(connection, Options.Create(new ClusterOptions { RedisPrefix = _prefix }), TimeProvider.System,
            NullLogger<RedisRateLimitStore>.Instance);
    }
}

/// <summary>A node whose Redis cannot be reached (nothing listens on its port) still serves the API, unlimited.</summary>
public sealed class RedisDownTests(RedisDownTests.UnreachableRedisFactory factory) : IClassFixture<RedisDownTests.UnreachableRedisFactory>
{
    public sealed class UnreachableRedisFactory : BananaLabFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = $"127.0.0.1:{LoopbackPorts.Free()},abortConnect=false,connectTimeout=500",
            ["RateLimits:Burst"] = "2",
            ["RateLimits:PermitsPerSecond"] = "1",
        };
    }

    [Fact]
    public async Task Requests_are_served_without_limits_while_redis_is_unreachable()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++) statuses.Add((await client.GetAsync("/api/v1/credits")).StatusCode);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task A_session_login_while_redis_is_unreachable_is_a_clear_503_that_changes_nothing()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var response = await client.PostAsJsonAsync("/login", new { endpoint_name = BananaLabFactory.TestModel });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("shared_state_unavailable", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readiness_reports_the_unreachable_redis_by_name()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/readyz");
        var report = await response.ReadJsonAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
    }
}
