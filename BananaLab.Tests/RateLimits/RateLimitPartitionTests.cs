using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Tests.Studio;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.RateLimits;

/// <summary>Sets the TCP peer's address from <c>X-Test-Peer</c>, as a real connection from that address would have it.</summary>
public sealed class TestPeerStartupFilter : IStartupFilter
{
    public const string Header = "X-Test-Peer";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, following) =>
        {
            if (IPAddress.TryParse(context.Request.Headers[Header].ToString(), out var peer)) context.Connection.RemoteIpAddress = peer;
            return following(context);
        });
        next(app);
    };
}

public sealed class PartitionedLimitsFactory : BananaLabFactory
{
    public const string Proxy = "10.0.0.1";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimits:Burst"] = "20",
        ["RateLimits:PermitsPerSecond"] = "1",
        ["RateLimits:SignInAttemptsPerMinute"] = "3",
        ["ForwardedHeaders:KnownProxies:0"] = Proxy,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddTransient<IStartupFilter, TestPeerStartupFilter>());
    }
}

/// <summary>Buckets belong to who calls (the key, the account), and the address is the client's own.</summary>
public sealed class RateLimitPartitionTests(PartitionedLimitsFactory factory) : IClassFixture<PartitionedLimitsFactory>
{
    private HttpClient From(string peer, string? forwardedFor = null)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Add(TestPeerStartupFilter.Header, peer);
        if (forwardedFor is not null) client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return client;
    }

    private static async Task<bool> BananaCheckLimitedAsync(HttpClient client, string apiKey)
    {
        var response = await client.PostAsJsonAsync("/check/v4", new { apiKey, callID = Guid.NewGuid().ToString() });
        return (await response.Content.ReadAsStringAsync()).Contains("Too many requests", StringComparison.Ordinal);
    }

    private static async Task<bool> ExhaustAsync(Func<Task<bool>> call)
    {
        for (var i = 0; i < 40; i++)
            if (await call()) return true;
        return false;
    }

    [Fact]
    public async Task Two_users_Banana_calls_from_one_address_do_not_share_a_bucket()
    {
        var (_, busy) = await factory.CreateUserAsync();
        var (_, quiet) = await factory.CreateUserAsync();
        var office = From("10.9.0.1");

        Assert.True(await ExhaustAsync(() => BananaCheckLimitedAsync(office, busy)));

        Assert.False(await BananaCheckLimitedAsync(office, quiet));
        var login = await office.PostAsJsonAsync("/login", new { endpoint_name = BananaLabFactory.TestModel, api_key = quiet });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await office.GetAsync("/account/login")).StatusCode);
    }

    [Fact]
    public async Task Session_calls_count_against_the_key_they_were_made_from()
    {
        var (_, busy) = await factory.CreateUserAsync();
        var (_, quiet) = await factory.CreateUserAsync();
        var office = From("10.9.0.2");
        var session = (await (await office.PostAsJsonAsync("/login", new { endpoint_name = BananaLabFactory.TestModel, api_key = busy }))
            .ReadJsonAsync()).GetProperty("client_session_auth_key").GetString();

        Assert.True(await ExhaustAsync(async () => (await office.PostAsJsonAsync("/endpoint/progress",
            new { client_session_auth_key = session, job_id = Guid.NewGuid().ToString() })).StatusCode == HttpStatusCode.TooManyRequests));

        Assert.False(await BananaCheckLimitedAsync(office, quiet));
        Assert.True(await BananaCheckLimitedAsync(office, busy));
    }

    [Fact]
    public async Task X_Forwarded_For_is_believed_only_from_a_configured_proxy()
    {
        // Through the configured proxy each client has its own bucket.
        Assert.True(await ExhaustAsync(async () =>
            (await From(PartitionedLimitsFactory.Proxy, "203.0.113.1").GetAsync("/api/v1/models")).StatusCode == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.Unauthorized, (await From(PartitionedLimitsFactory.Proxy, "203.0.113.2").GetAsync("/api/v1/models")).StatusCode);

        // From anyone else the header is ignored: changing it does not buy a fresh bucket.
        Assert.True(await ExhaustAsync(async () =>
            (await From("10.0.0.2", "203.0.113.3").GetAsync("/api/v1/models")).StatusCode == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await From("10.0.0.2", "203.0.113.4").GetAsync("/api/v1/models")).StatusCode);
    }

    [Fact]
    public async Task Sign_in_attempts_are_counted_per_account_as_well_as_per_address()
    {
        var users = factory.Services.GetRequiredService<UserService>();
        var target = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Target", UserRole.User, "password123");
        var bystander = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Bystander", UserRole.User, "password123");
        var wrong = (string email) => new Dictionary<string, string> { ["Form.Email"] = email, ["Form.Password"] = "wrong-guess" };

        // Three guesses at one account, each from a different address, use up that account's budget...
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await AccountTests.PostFormAsync(From($"10.8.0.{i + 1}"), "/account/login", "login", wrong(target.Email))).StatusCode);
        var fourth = await AccountTests.PostFormAsync(From("10.8.0.9"), "/account/login", "login", wrong(target.Email.ToUpperInvariant()));
        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);

        // ...but not another account's, even from the same fresh address.
        var other = await AccountTests.PostFormAsync(From("10.8.0.10"), "/account/login", "login", wrong(bystander.Email));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}
