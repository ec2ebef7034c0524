using System.Net.Http.Headers;
using BananaLab.Core.Generation;
using BananaLab.Core.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// The real app on a temp-file SQLite database of its own, with the repository's appsettings.json,
/// a fast worker and a "test-model" served by <see cref="ScriptedGenerator"/>.
/// </summary>
public class BananaLabFactory : WebApplicationFactory<Program>
{
    public const string AdminApiKey = "bl_test_admin_key_0123456789abcdef";
    public const string TestModel = "test-model";
    public const string TextOnlyModel = "text-only-model";

    private readonly TempDirectory? _ownedData;

    public BananaLabFactory()
    {
        _ownedData = new TempDirectory();
        DataDirectory = _ownedData.Path;
    }

    /// <summary>On a data directory that outlives this factory (a restarted process).</summary>
    protected BananaLabFactory(string dataDirectory) => DataDirectory = dataDirectory;

    public string DataDirectory { get; }

    /// <summary>Settings a derived factory or a test adds or overrides.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(RepositoryPaths.Root);
        var settings = TestSettings(DataDirectory);
        foreach (var (key, value) in Settings) settings[key] = value;
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
            services.AddImageGenerator<ScriptedGenerator>());
    }

    /// <summary>
    /// The settings every test host runs with: its data directory, a bootstrap admin with a known key,
    /// limits out of the way, a fast worker, and the scripted test models.
    /// </summary>
    public static Dictionary<string, string?> TestSettings(string dataDirectory) => new()
    {
        ["Storage:DataDirectory"] = dataDirectory,
        ["Bootstrap:AdminEmail"] = "admin@example.test",
        ["Bootstrap:AdminApiKey"] = AdminApiKey,
        ["Bootstrap:InitialCredits"] = "1000",
        ["Credits:SignupGrant"] = "100",
        ["Api:DefaultModel"] = TestModel,
        ["RateLimits:Burst"] = "100000",
        // Webhook tests receive on loopback; every other private or reserved address stays refused.
        ["Webhooks:AllowedNetworks:0"] = "127.0.0.1/32",
        ["Webhooks:BaseDelaySeconds"] = "1",
        ["Webhooks:PollIntervalMs"] = "100",
        ["Webhooks:TimeoutSeconds"] = "5",
        ["RateLimits:PermitsPerSecond"] = "100000",
        ["RateLimits:SignInAttemptsPerMinute"] = "100000",
        ["Cluster:NodeName"] = "test-node",
        ["Worker:Name"] = "test-worker-" + Guid.NewGuid().ToString("N")[..6],
        ["Worker:ShutdownGraceSeconds"] = "0",
        ["Worker:PollIntervalMs"] = "100",
        ["Worker:RetryBaseDelayMs"] = "20",
        ["Worker:HeartbeatMs"] = "100",
        ["Worker:LeaseSeconds"] = "5",
        ["Worker:RecoveryIntervalSeconds"] = "1",
        [$"Models:{TestModel}:DisplayName"] = "Test model",
        [$"Models:{TestModel}:Provider"] = ScriptedGenerator.Provider,
        [$"Models:{TestModel}:NativeWidth"] = "64",
        [$"Models:{TestModel}:NativeHeight"] = "64",
        [$"Models:{TestModel}:Tiers:1K"] = "5",
        [$"Models:{TestModel}:Tiers:2K"] = "10",
        [$"Models:{TestModel}:MaxImages"] = "4",
        [$"Models:{TestModel}:AcceptsReferenceImage"] = "true",
        [$"Models:{TestModel}:DefaultSteps"] = "2",
        [$"Models:{TestModel}:TimeoutSeconds"] = "30",
        [$"Models:{TextOnlyModel}:DisplayName"] = "Text-only test model",
        [$"Models:{TextOnlyModel}:Provider"] = ScriptedGenerator.Provider,
        [$"Models:{TextOnlyModel}:NativeWidth"] = "64",
        [$"Models:{TextOnlyModel}:NativeHeight"] = "64",
        [$"Models:{TextOnlyModel}:Tiers:1K"] = "1",
        [$"Models:{TextOnlyModel}:AcceptsReferenceImage"] = "false",
        [$"Models:{TextOnlyModel}:DefaultSteps"] = "2", // the test model's, so Compare mode offers one steps field for both
    };

    public HttpClient CreateClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>A new user with its own API key and the sign-up grant (or the given credits).</summary>
    public async Task<(User User, string ApiKey)> CreateUserAsync(int? credits = null)
    {
        _ = Server; // make sure the host (and its migrations) started
        var users = Services.GetRequiredService<UserService>();
        var user = await users.CreateAsync($"user-{Guid.NewGuid():N}@example.test", "Test user", UserRole.User, initialCredits: credits);
        var key = await Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "test");
        return (user, key.Secret);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            SqliteConnection.ClearAllPools();
            _ownedData?.Dispose();
        }
    }
}

/// <summary>The same app with the worker switched off, for tests that drive the queue by hand.</summary>
public sealed class NoWorkerFactory : BananaLabFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Worker:Enabled"] = "false" };
}
