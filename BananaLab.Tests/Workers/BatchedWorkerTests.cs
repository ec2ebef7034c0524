using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Workers;

/// <summary>
/// Adaptive batching across tasks in the real host: banana-nano on the ONNX Runtime, tasks queued together and claimed in
/// one batch, each settled on its own; the stored images equal those of the same tasks run one by one.
/// </summary>
public sealed class BatchedWorkerTests(BatchedWorkerTests.BatchingFactory factory) : IClassFixture<BatchedWorkerTests.BatchingFactory>
{
    public sealed class BatchingFactory : BananaLabFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Worker:MaxBatchSize"] = "8",
            ["Worker:MaxBatchDelayMs"] = "0",
        };
    }

    private const string Model = "banana-nano";

    /// <summary>
    /// Submits the tasks while the worker's one local slot is busy (a test-model task waiting on a gate), then frees it: the
    /// worker finds them queued together, as it does whenever tasks arrive faster than it runs them.
    /// </summary>
    private async Task<List<Guid>> SubmitWhileBusyAsync(HttpClient client, params object[] bodies)
    {
        var gate = $"busy{Guid.NewGuid():N}";
        var blocker = (await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = $"a calm lake at dawn [gate:{gate}]" })).Id;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await client.GetTaskAsync(blocker)).Status != "running" && DateTime.UtcNow < deadline) await Task.Delay(20);
        var ids = new List<Guid>();
        foreach (var body in bodies) ids.Add((await client.SubmitAsync(body)).Id);
        ScriptedGenerator.OpenGate(gate);
        return ids;
    }

    private async Task<List<byte[]>> ImagesAsync(Guid taskId)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var store = factory.Services.GetRequiredService<ImageStore>();
        var images = await db.TaskImages.Where(i => i.TaskId == taskId).OrderBy(i => i.Index).ToListAsync();
        return images.Select(i => File.ReadAllBytes(store.FullPath(i.FilePath))).ToList();
    }

    [Fact]
    public async Task Tasks_queued_together_share_one_run_and_each_settles_exactly_with_its_solo_images()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        object[] bodies =
        [
            new { model = Model, prompt = "a red apple", seed = 11, steps = 4, size = "1K" },
            new { model = Model, prompt = "a blue car", seed = 12, steps = 4, guidance = 6.5, count = 2, size = "2K" },
            new { model = Model, prompt = "a yellow star", seed = 13, steps = 4, negativePrompt = "dark", size = "1K" },
        ];
        var batched = await SubmitWhileBusyAsync(client, bodies);
        var done = new List<Web.Api.Tasks.TaskResponse>();
        foreach (var id in batched) done.Add(await client.WaitForTerminalAsync(id, timeoutSeconds: 120));

        Assert.All(done, t => Assert.Equal("succeeded", t.Status));
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
        {
            var rows = await db.Tasks.Where(t => batched.Contains(t.Id)).ToListAsync();
            // One claim statement took all three: one start time, one worker.
            Assert.True(rows.Select(t => (t.StartedAt, t.WorkerName)).Distinct().Count() == 1,
                string.Join("; ", rows.Select(t => $"{t.Prompt} {t.StartedAt:O} {t.CreatedAt:O} steps {t.Steps} g {t.Guidance} n {t.ImageCount} ref {t.ReferenceImagePath} nb {t.NotBefore}")));
            Assert.All(rows, t => Assert.Equal(t.CreditsReserved, t.CreditsCharged));
            var entries = await db.CreditEntries.Where(e => e.TaskId != null && batched.Contains(e.TaskId.Value)).ToListAsync();
            Assert.All(rows, t =>
            {
                Assert.Single(entries, e => e.TaskId == t.Id && e.Kind == CreditEntryKind.Reserve);
                Assert.Single(entries, e => e.TaskId == t.Id && e.Kind == CreditEntryKind.Capture);
            });
            Assert.Equal(100 - 5 - rows.Sum(t => t.CreditsReserved), await client.BalanceAsync()); // 5: the test-model task that held the slot
        }
        // Prometheus saw a run of four images (1 + 2 + 1), and how long the worker waited for it.
        using (var anonymous = factory.CreateClient())
        {
            var metrics = await anonymous.GetStringAsync("/metrics");
            Assert.True(BatchSizeBucket(metrics, "4") - BatchSizeBucket(metrics, "3") >= 1, metrics);
            Assert.Contains($"bananalab_batch_wait_seconds_count{{model=\"{Model}\"", metrics);
        }

        // The same tasks one at a time: byte for byte the same files.
        for (var i = 0; i < bodies.Length; i++)
        {
            var alone = await client.WaitForTerminalAsync((await client.SubmitAsync(bodies[i])).Id, timeoutSeconds: 120);
            Assert.Equal("succeeded", alone.Status);
            Assert.Equal(await ImagesAsync(alone.Id), await ImagesAsync(batched[i]));
        }
    }

    [Fact]
    public async Task A_member_canceled_mid_run_ends_canceled_with_its_credits_back_and_the_others_succeed()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        const int blockerCost = 5; // the test-model task that holds the slot (1K)
        var before = await client.BalanceAsync() - blockerCost;
        var ids = await SubmitWhileBusyAsync(client,
            new { model = Model, prompt = "a green frog", seed = 21, steps = 60, size = "1K" },
            new { model = Model, prompt = "a purple flower", seed = 22, steps = 60, size = "1K" },
            new { model = Model, prompt = "an orange fish", seed = 23, steps = 60, size = "1K" });

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetTaskAsync(ids[1])).Progress == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        var cancel = await client.PostAsync($"/api/v1/tasks/{ids[1]}/cancel", null);
        Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());

        var done = new List<Web.Api.Tasks.TaskResponse>();
        foreach (var id in ids) done.Add(await client.WaitForTerminalAsync(id, timeoutSeconds: 120));
        Assert.Equal(["succeeded", "canceled", "succeeded"], done.Select(t => t.Status));
        Assert.Single(done.Select(t => t.StartedAt).Distinct()); // one claim: they shared the run
        Assert.Equal(before - done[0].CreditsCharged - done[2].CreditsCharged, await client.BalanceAsync());
        Assert.Equal(0, done[1].CreditsCharged);
        Assert.All(done.Where(t => t.Status == "succeeded"), t => Assert.Single(t.Images));
    }

    /// <summary>The cumulative count of <c>bananalab_batch_size</c> at bucket <paramref name="le"/> for banana-nano.</summary>
    private static long BatchSizeBucket(string metrics, string le)
    {
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith("bananalab_batch_size_bucket{") && l.Contains($"model=\"{Model}\"") && l.Contains($"le=\"{le}\""));
        Assert.True(line is not null, metrics);
        return long.Parse(line[(line.LastIndexOf(' ') + 1)..]);
    }
}
