using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SkiaSharp;

namespace BananaLab.Tests.Providers.OpenAI;

/// <summary>
/// Host A's model <c>remote-nano</c> (provider <c>openai</c>) is host B's <c>banana-nano</c>, reached through B's OpenAI dialect on
/// a real Kestrel listener on loopback, with the key of a user of B: the main test of the provider. The Images API takes no
/// seed, so A's image cannot be compared with one B makes on its own for the same seed; it is compared with the one B stored for
/// the task A's call made there, which it must equal byte for byte (B makes the exact size asked, so A's finishing step keeps it).
/// </summary>
public sealed class BananaLabAsRemoteTests(BananaLabAsRemoteTests.TwoHosts hosts) : IClassFixture<BananaLabAsRemoteTests.TwoHosts>
{
    public const string RemoteNano = "remote-nano";

    /// <summary>B on Kestrel serving its catalog (banana-nano on the ONNX Runtime), a user of B, and A pointed at B with that user's key.</summary>
    public sealed class TwoHosts : IAsyncLifetime
    {
        public LoggedHost B { get; } = new(new Dictionary<string, string?>(), kestrel: true);
        public LoggedHost A { get; private set; } = null!;
        public User BUser { get; private set; } = null!;
        public string BKey { get; private set; } = "";

        public async Task InitializeAsync()
        {
            B.StartServer();
            // BananaLabFactory.CreateUserAsync reads the in-memory test server, which a Kestrel host has not.
            BUser = await B.Services.GetRequiredService<UserService>().CreateAsync($"b-{Guid.NewGuid():N}@example.test", "A's account on B",
                UserRole.User, initialCredits: 50);
            BKey = (await B.Services.GetRequiredService<ApiKeyService>().CreateAsync(BUser.Id, "host A")).Secret;
            using var probe = B.CreateClient();
            A = new LoggedHost(new Dictionary<string, string?>
            {
                [$"Models:{RemoteNano}:DisplayName"] = "Banana Nano on host B",
                [$"Models:{RemoteNano}:Provider"] = "openai",
                [$"Models:{RemoteNano}:Endpoint"] = new Uri(probe.BaseAddress!, "/v1").ToString(),
                [$"Models:{RemoteNano}:RemoteModel"] = "banana-nano",
                [$"Models:{RemoteNano}:ApiKey"] = BKey,
                [$"Models:{RemoteNano}:Tiers:1K"] = "3",
                [$"Models:{RemoteNano}:Tiers:2K"] = "6",
                [$"Models:{RemoteNano}:TimeoutSeconds"] = "240",
            }, kestrel: false);
        }

        public async Task DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    /// <summary>The test app with its log lines captured; on a real Kestrel listener when <c>kestrel</c>.</summary>
    public sealed class LoggedHost : BananaLabFactory
    {
        private readonly IDictionary<string, string?> _settings;

        public LoggedHost(IDictionary<string, string?> settings, bool kestrel)
        {
            _settings = settings;
            if (kestrel) UseKestrel(0);
        }

        public CapturedLogs Logs { get; } = new();

        protected override IDictionary<string, string?> Settings => _settings;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(logging => logging.AddProvider(Logs).AddFilter<CapturedLogs>(null, LogLevel.Trace));
        }
    }

    [Fact]
    public async Task A_task_on_A_runs_on_B_with_the_exact_tier_size_and_each_host_charges_its_own_user()
    {
        var (aUser, aKey) = await hosts.A.CreateUserAsync(credits: 30);
        using var a = hosts.A.CreateClient(aKey);
        var bBalance = await Balance(hosts.B, hosts.BUser.Id);
        var bTasks = await TasksOfBUserAsync();

        var submitted = await a.SubmitAsync(new { model = RemoteNano, prompt = "a ripe banana on a plate", size = "1K", aspectRatio = "4:3" });
        var task = await a.WaitForTerminalAsync(submitted.Id, timeoutSeconds: 240);

        Assert.True(task.Status == "succeeded", $"{task.Status}: {task.Error?.Code} {task.Error?.Message}");
        var stored = await StoredImageAsync(hosts.A, task.Id);
        using (var image = SKBitmap.Decode(stored)) Assert.Equal((1024, 768), (image.Width, image.Height));

        var onB = await TheOneNewTaskOfBUserAsync(bTasks);
        Assert.Equal(("banana-nano", "openai", 1024, 768, GenerationTaskStatus.Succeeded), (onB.ModelId, onB.Source, onB.Width, onB.Height, onB.Status));
        Assert.Equal(stored, await StoredImageAsync(hosts.B, onB.Id));
        Assert.Equal(bBalance - 1, await Balance(hosts.B, hosts.BUser.Id)); // B's 1K price of banana-nano, to B's user
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], await EntriesAsync(hosts.B, hosts.BUser.Id, onB.Id));
        Assert.Equal(30 - 3, await Balance(hosts.A, aUser.Id)); // A's own price of remote-nano, to A's user
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], await EntriesAsync(hosts.A, aUser.Id, task.Id));
        AssertKeyNeverLogged();
    }

    [Fact]
    public async Task A_task_with_a_reference_image_goes_through_Bs_edits_endpoint()
    {
        var (_, aKey) = await hosts.A.CreateUserAsync(credits: 30);
        using var a = hosts.A.CreateClient(aKey);
        var bTasks = await TasksOfBUserAsync();
        var reference = Convert.ToBase64String(OpenAiLikeServer.Png(128, 128));

        var submitted = await a.SubmitAsync(new { model = RemoteNano, prompt = "the same banana, now blue", referenceImage = reference });
        var task = await a.WaitForTerminalAsync(submitted.Id, timeoutSeconds: 240);

        Assert.True(task.Status == "succeeded", $"{task.Status}: {task.Error?.Code} {task.Error?.Message}");
        var onB = await TheOneNewTaskOfBUserAsync(bTasks);
        Assert.True(onB.ReferenceImagePath is not null, "B's task was expected to carry A's reference image (the edits endpoint)");
        Assert.Equal(("openai", GenerationTaskStatus.Succeeded, 1024, 1024), (onB.Source, onB.Status, onB.Width, onB.Height));
        AssertKeyNeverLogged();
    }

    private void AssertKeyNeverLogged()
    {
        Assert.NotEmpty(hosts.A.Logs.Lines);
        Assert.Empty(hosts.A.Logs.Containing(hosts.BKey));
        Assert.Empty(hosts.B.Logs.Containing(hosts.BKey));
    }

    /// <summary>B's tasks of B's user.</summary>
    private async Task<List<GenerationTask>> TasksOfBUserAsync()
    {
        await using var db = await hosts.B.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.Tasks.AsNoTracking().Where(t => t.UserId == hosts.BUser.Id).ToListAsync();
    }

    /// <summary>The one task of B's user that is not among <paramref name="before"/>: the one A's call made.</summary>
    private async Task<GenerationTask> TheOneNewTaskOfBUserAsync(List<GenerationTask> before) =>
        Assert.Single(await TasksOfBUserAsync(), t => before.All(b => b.Id != t.Id));

    private static Task<int> Balance(BananaLabFactory host, Guid userId) => host.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(userId);

    private static async Task<List<CreditEntryKind>> EntriesAsync(BananaLabFactory host, Guid userId, Guid taskId) =>
        (await host.Services.GetRequiredService<CreditLedger>().GetEntriesAsync(userId, 0, 200))
        .Where(e => e.TaskId == taskId).Select(e => e.Kind).Order().ToList();

    private static async Task<byte[]> StoredImageAsync(BananaLabFactory host, Guid taskId)
    {
        var task = (await host.Services.GetRequiredService<TaskService>().GetAsync(taskId, null, CancellationToken.None))!.Task;
        return await File.ReadAllBytesAsync(host.Services.GetRequiredService<ImageStore>().FullPath(task.Images.Single().FilePath));
    }
}
