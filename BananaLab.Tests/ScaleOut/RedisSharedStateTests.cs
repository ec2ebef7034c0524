using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using BananaLab.Core.Data;
using BananaLab.Core.Moderation;
using BananaLab.Core.Sessions;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace BananaLab.Tests.ScaleOut;

/// <summary>
/// Two nodes of one cluster: two hosts on one data directory (one SQLite database, so an API key means the
/// same account on both) and one Redis prefix of the shared test server. Workers are off: these tests are
/// about what the web nodes share.
/// </summary>
public class RedisCluster : IDisposable
{
    private readonly TempDirectory _data = new();

    public RedisCluster() : this(new Dictionary<string, string?>()) { }

    protected RedisCluster(IDictionary<string, string?> settings)
    {
        Redis = RedisServer.Shared.GetAwaiter().GetResult();
        Prefix = "t" + Guid.NewGuid().ToString("N");
        A = new Node(_data.Path, Settings("node-a", settings));
        _ = A.Server; // the first node migrates the database before the second one opens it
        B = new Node(_data.Path, Settings("node-b", settings));
        _ = B.Server;
    }

    public RedisServer Redis { get; }
    public string Prefix { get; }
    public Node A { get; }
    public Node B { get; }

    private Dictionary<string, string?> Settings(string nodeName, IDictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = Redis.ConnectionString,
            ["Cluster:RedisPrefix"] = Prefix,
            ["Cluster:NodeName"] = nodeName,
            ["Worker:Enabled"] = "false",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public sealed class Node(string dataDirectory, IDictionary<string, string?> settings) : BananaLabFactory(dataDirectory)
    {
        protected override IDictionary<string, string?> Settings => settings;
    }
}

/// <summary>A cluster whose API keys may make 5 requests at once and 1 a second after that.</summary>
public sealed class TightlyLimitedRedisCluster() : RedisCluster(new Dictionary<string, string?>
{
    ["RateLimits:Burst"] = "5",
    ["RateLimits:PermitsPerSecond"] = "1",
});

public sealed class RedisSharedStateTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    /// <summary>Less than <see cref="ApiKeyService.CacheLifetime"/>: a node that only waited for its cache to expire fails.</summary>
    private static readonly TimeSpan WellWithinCacheLifetime = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_session_key_issued_on_one_node_is_accepted_on_the_other()
    {
        var (_, key) = await cluster.A.CreateUserAsync();
        using var onA = cluster.A.CreateClient(key);
        var login = await (await onA.PostAsJsonAsync("/login", new { endpoint_name = BananaLabFactory.TestModel })).ReadJsonAsync();
        var session = login.GetProperty("client_session_auth_key").GetString()!;

        using var onB = cluster.B.CreateClient();
        var submitted = await onB.PostAsJsonAsync("/endpoint", new { client_session_auth_key = session, prompt = "a shared session" });
        var unknown = await onB.PostAsJsonAsync("/endpoint", new { client_session_auth_key = Guid.NewGuid().ToString(), prompt = "a" });

        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.True((await submitted.ReadJsonAsync()).GetProperty("success").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        // Kept in Redis for the session's lifetime (60 minutes by default), not in the table.
        using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(session)));
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync($"{cluster.Prefix}:session:{hash}");
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(60));
        await using var db = await cluster.A.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Set<ClientSession>().CountAsync());
    }

    [Fact]
    public async Task A_key_revoked_on_one_node_is_refused_on_the_other_at_once()
    {
        var (user, key) = await cluster.A.CreateUserAsync();
        using var onB = cluster.B.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("/api/v1/credits")).StatusCode); // B now remembers the key
        var keyId = (await cluster.A.Services.GetRequiredService<ApiKeyService>().ListAsync(user.Id)).Single().Id;

        Assert.True(await cluster.A.Services.GetRequiredService<ApiKeyService>().RevokeAsync(user.Id, keyId));

        await AssertRefusedSoonAsync(onB);
    }

    [Fact]
    public async Task A_session_key_dies_on_every_node_with_the_API_key_it_came_from()
    {
        var (user, key) = await cluster.A.CreateUserAsync();
        using var onA = cluster.A.CreateClient();
        using var onB = cluster.B.CreateClient();
        var login = await (await onA.PostAsJsonAsync("/login", new { endpoint_name = BananaLabFactory.TestModel, api_key = key })).ReadJsonAsync();
        var session = login.GetProperty("client_session_auth_key").GetString()!;
        var progress = () => new { client_session_auth_key = session, job_id = Guid.NewGuid().ToString() };
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await onB.PostAsJsonAsync("/endpoint/progress", progress())).StatusCode);
        var keyId = (await cluster.A.Services.GetRequiredService<ApiKeyService>().ListAsync(user.Id)).Single().Id;

        Assert.True(await cluster.A.Services.GetRequiredService<ApiKeyService>().RevokeAsync(user.Id, keyId));

        Assert.Equal(HttpStatusCode.Unauthorized, (await onB.PostAsJsonAsync("/endpoint/progress", progress())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await onA.PostAsJsonAsync("/endpoint/progress", progress())).StatusCode);
        using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(session)));
        Assert.False(await redis.GetDatabase().KeyExistsAsync($"{cluster.Prefix}:session:{hash}"));
    }

    [Fact]
    public async Task A_user_disabled_on_one_node_is_refused_on_the_other_at_once()
    {
        var (user, key) = await cluster.A.CreateUserAsync();
        using var onB = cluster.B.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("/api/v1/credits")).StatusCode);

        Assert.Null(await cluster.A.Services.GetRequiredService<UserService>().SetDisabledAsync(Guid.NewGuid(), user.Id, disabled: true));

        await AssertRefusedSoonAsync(onB);
    }

    [Fact]
    public async Task A_term_an_admin_adds_on_one_node_blocks_on_the_other_at_once()
    {
        var (user, _) = await cluster.A.CreateUserAsync();
        var term = "zq" + new string(Guid.NewGuid().ToString("N")[..10].Select(c => (char)('a' + c % 26)).ToArray());
        // One word: the rules alone judge it (the classifier scores made-up words at random; issue 18 note).
        var request = new ModerationRequest(user.Id, $"a {term}", null);
        var onB = cluster.B.Services.GetRequiredService<PromptModerator>();
        Assert.True((await onB.ScreenAsync(request, CancellationToken.None)).Allowed); // B has compiled its rules

        Assert.Null(await cluster.A.Services.GetRequiredService<ModerationTermsService>()
            .AddAsync("custom", term, blocks: true, "scale-out test", user.Id, CancellationToken.None));

        var watch = Stopwatch.StartNew();
        while ((await onB.ScreenAsync(request, CancellationToken.None)).Allowed && watch.Elapsed < WellWithinCacheLifetime)
            await Task.Delay(50);
        Assert.False((await onB.ScreenAsync(request, CancellationToken.None)).Allowed);
    }

    /// <summary>The other node refuses the key well before its cache of the key would have expired by itself.</summary>
    private static async Task AssertRefusedSoonAsync(HttpClient client)
    {
        var watch = Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = (await client.GetAsync("/api/v1/credits")).StatusCode) == HttpStatusCode.OK && watch.Elapsed < WellWithinCacheLifetime)
            await Task.Delay(50);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }
}

public sealed class RedisSharedRateLimitTests(TightlyLimitedRedisCluster cluster) : IClassFixture<TightlyLimitedRedisCluster>
{
    [Fact]
    public async Task A_burst_spread_over_two_nodes_is_limited_as_one_bucket()
    {
        var (_, key) = await cluster.A.CreateUserAsync();
        using var onA = cluster.A.CreateClient(key);
        using var onB = cluster.B.CreateClient(key);
        // Warm both nodes up on requests that take no tokens, so the burst itself is quick.
        Assert.Equal(HttpStatusCode.OK, (await onA.GetAsync("/livez")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("/livez")).StatusCode);

        var watch = Stopwatch.StartNew();
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 10; i++) responses.Add(await (i % 2 == 0 ? onA : onB).GetAsync("/api/v1/credits"));
        var elapsed = watch.Elapsed;

        var allowed = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(10, allowed + refused.Count);
        // 5 at once, plus the 1 a second that refilled while the requests ran (none when they take under a second);
        // two buckets of their own would have let all 10 through.
        Assert.InRange(allowed, 5, 5 + (int)elapsed.TotalSeconds);
        Assert.All(refused, r => Assert.NotNull(r.Headers.RetryAfter));
        Assert.Contains(Enumerable.Range(0, 10), i => i % 2 == 0 && responses[i].StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Contains(Enumerable.Range(0, 10), i => i % 2 == 1 && responses[i].StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Equal("rate_limited", (await refused[0].ReadJsonAsync()).GetProperty("code").GetString());
    }
}
