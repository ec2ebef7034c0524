using System.Net;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Cors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Tests.Cors;

/// <summary>The app on a real Kestrel with one allowed origin, as a browser app's preflights reach it.</summary>
public sealed class CorsAppFactory : BananaLabFactory
{
    public const string AllowedOrigin = "https://app.example.test";

    public CorsAppFactory() => UseKestrel(0);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = AllowedOrigin };
}

/// <summary>
/// Preflights on every API path of every dialect (native, OpenAI, Banana, fastDeploy, the session interface, BentoML):
/// answered for a configured origin, refused for any other one and for everyone with the default settings.
/// </summary>
public sealed class CorsTests(CorsAppFactory app) : IClassFixture<CorsAppFactory>
{
    [Fact]
    public async Task Every_api_endpoint_of_every_dialect_answers_a_preflight_from_the_configured_origin_without_credentials()
    {
        app.StartServer();
        var endpoints = MappedEndpoints.Api(app.Services);
        Assert.Contains(endpoints, e => MappedEndpoints.DialectOf(e.Path) == "openai");
        Assert.Contains(endpoints, e => MappedEndpoints.DialectOf(e.Path) == "banana");
        Assert.Contains(endpoints, e => MappedEndpoints.DialectOf(e.Path) == "fastdeploy");
        Assert.Contains(endpoints, e => MappedEndpoints.DialectOf(e.Path) == "session");
        Assert.Contains(endpoints, e => e.Path.StartsWith("/api/v1/", StringComparison.Ordinal));
        using var client = app.CreateClient();

        var problems = new List<string>();
        foreach (var endpoint in endpoints)
        {
            using var response = await client.SendAsync(Preflight(endpoint.Path, endpoint.Method, CorsAppFactory.AllowedOrigin));
            if (response.StatusCode != HttpStatusCode.NoContent) problems.Add($"{endpoint}: {(int)response.StatusCode}");
            else if (Header(response, "Access-Control-Allow-Origin") != CorsAppFactory.AllowedOrigin) problems.Add($"{endpoint}: no Access-Control-Allow-Origin");
            else if (Header(response, "Access-Control-Allow-Credentials") is not null) problems.Add($"{endpoint}: allows credentials");
            else if (!Header(response, "Access-Control-Allow-Methods")!.Split(',').Contains(endpoint.Method)) problems.Add($"{endpoint}: method not allowed");
            else if (!Header(response, "Access-Control-Allow-Headers")!.Contains("Authorization", StringComparison.OrdinalIgnoreCase))
                problems.Add($"{endpoint}: Authorization not allowed");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>One path of each dialect: native, OpenAI, Banana, fastDeploy, the session interface, BentoML-style.</summary>
    public static TheoryData<string, string> OnePathPerDialect => new()
    {
        { "/api/v1/tasks", "POST" }, { "/v1/images/generations", "POST" }, { "/start/v4", "POST" }, { "/async", "POST" },
        { "/endpoint", "POST" }, { "/generate", "POST" },
    };

    [Theory]
    [MemberData(nameof(OnePathPerDialect))]
    public async Task A_preflight_from_another_origin_gets_no_allow_origin(string path, string method)
    {
        using var client = app.CreateClient();

        using var response = await client.SendAsync(Preflight(path, method, "https://evil.example.test"));

        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_real_call_from_the_configured_origin_may_read_the_answer_and_its_retry_headers()
    {
        app.StartServer();
        var user = await app.Services.GetRequiredService<UserService>().CreateAsync($"{Guid.NewGuid():N}@example.test", "Browser app", UserRole.User);
        var key = (await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "browser")).Secret;
        using var client = app.CreateClient(key);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/models");
        request.Headers.Add("Origin", CorsAppFactory.AllowedOrigin);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CorsAppFactory.AllowedOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("Retry-After", Header(response, "Access-Control-Expose-Headers"));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://app.example.test/")]
    [InlineData("https://app.example.test/studio")]
    [InlineData("ftp://app.example.test")]
    [InlineData("app.example.test")]
    public void An_allowed_origin_that_is_not_an_origin_is_refused_at_start_naming_the_key(string origin)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cors:AllowedOrigins:0"] = "http://localhost:3000", ["Cors:AllowedOrigins:1"] = origin,
        });
        builder.AddBananaLabCors();
        using var host = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<CrossOriginOptions>>().Value);

        Assert.Contains($"Cors:AllowedOrigins:1 '{origin}' is not an origin", error.Message);
        Assert.DoesNotContain("Cors:AllowedOrigins:0", error.Message);
    }

    internal static HttpRequestMessage Preflight(string path, string method, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }

    internal static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

}

/// <summary>With the default settings (no <c>Cors:AllowedOrigins</c>) no origin is allowed, on any dialect.</summary>
public sealed class DefaultCorsTests(KestrelAppFactory app) : IClassFixture<KestrelAppFactory>
{
    [Theory]
    [MemberData(nameof(CorsTests.OnePathPerDialect), MemberType = typeof(CorsTests))]
    public async Task No_origin_is_allowed_by_default(string path, string method)
    {
        using var client = app.CreateClient();

        using var response = await client.SendAsync(CorsTests.Preflight(path, method, CorsAppFactory.AllowedOrigin));

        Assert.Null(CorsTests.Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(CorsTests.Header(response, "Access-Control-Allow-Methods"));
    }
}
