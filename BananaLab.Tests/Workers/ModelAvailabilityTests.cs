using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Core.Workers;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Tests.Workers;

/// <summary>
/// A model no worker can run is refused at submission with <c>model_unavailable</c>, named on <c>/readyz</c> and in
/// <c>/api/v1/models</c>, and its tasks already queued fail and are refunded after <c>Worker:UnservedGraceSeconds</c>, instead
/// of waiting forever with their credits reserved. Real hosts on real SQLite files.
/// </summary>
public sealed class ModelAvailabilityTests
{
    [Fact]
    public async Task On_one_machine_a_model_whose_provider_has_no_generator_is_refused_and_named_on_readyz_and_in_the_models_list()
    {
        using var factory = new OrphanModelFactory();
        var (_, key) = await factory.CreateUserAsync(credits: 20);
        using var client = factory.CreateClient(key);

        var refused = await client.PostAsJsonAsync("/api/v1/tasks", new { model = OrphanModelFactory.Orphan, prompt = "a lighthouse" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var problem = await refused.ReadJsonAsync();
        Assert.Equal("model_unavailable", problem.GetProperty("code").GetString());
        Assert.Contains("no generator for its provider 'nowhere'", problem.GetProperty("detail").GetString());
        Assert.Equal(20, (await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync()).GetProperty("balance").GetInt32());

        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // the other models still run: degraded, not down
        var report = await ready.ReadJsonAsync();
        Assert.Equal("Degraded", report.GetProperty("status").GetString());
        var models = report.GetProperty("checks").GetProperty("models");
        Assert.Equal("Degraded", models.GetProperty("status").GetString());
        var description = models.GetProperty("description").GetString()!;
        Assert.StartsWith($"Refused at submission: {OrphanModelFactory.Orphan}: no running worker serves it; this installation has no generator for its provider 'nowhere'. Running: ", description);
        Assert.Contains($"{BananaLabFactory.TestModel}: served by test-worker-", description);

        var listed = (await (await client.GetAsync("/api/v1/models")).ReadJsonAsync()).EnumerateArray().ToList();
        var orphan = listed.Single(m => m.GetProperty("id").GetString() == OrphanModelFactory.Orphan);
        Assert.False(orphan.GetProperty("available").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, orphan.GetProperty("capabilities").ValueKind);
        var test = listed.Single(m => m.GetProperty("id").GetString() == BananaLabFactory.TestModel);
        Assert.True(test.GetProperty("available").GetBoolean());
        Assert.StartsWith("served by test-worker-", test.GetProperty("availability").GetString());
    }

    [Fact]
    public async Task A_web_node_queues_until_a_worker_registers_then_refuses_what_no_worker_serves_and_the_worker_refunds_what_waited()
    {
        using var data = new TempDirectory();
        using var web = new WebNodeFactory(data.Path);
        var user = await web.Services.GetRequiredService<UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Availability test", UserRole.User, initialCredits: 100);
        var tasks = web.Services.GetRequiredService<TaskService>();
        Task<Outcome<TaskView>> Submit(string model) =>
            tasks.SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = model, Prompt = "a paper boat" }, default);

        // No worker has registered with this database yet: the web node queues, for whichever worker comes.
        var waiting = new[] { (await Submit(BananaLabFactory.TextOnlyModel)).Value!.Id, (await Submit(BananaLabFactory.TextOnlyModel)).Value!.Id };

        // The first worker runs the test model only.
        using var worker = StartWorker(data.Path, "test-model-box", BananaLabFactory.TestModel, graceSeconds: 2);

        // Once its registration is read, the web node refuses the model no worker serves, and still takes the one it does.
        var availability = web.Services.GetRequiredService<ModelAvailability>();
        var textOnly = web.Services.GetRequiredService<ModelCatalog>().Find(BananaLabFactory.TextOnlyModel)!;
        await ChildProcesses.WaitUntilAsync(async () => !(await availability.OfAsync(textOnly, default)).Available, TimeSpan.FromSeconds(20));
        var refused = await Submit(BananaLabFactory.TextOnlyModel);
        Assert.Equal("model_unavailable", refused.Error?.Code);
        Assert.Contains("no running worker serves it", refused.Error!.Message);
        var served = await Submit(BananaLabFactory.TestModel);
        Assert.True(served.Succeeded, served.Error?.ToString());

        // What waited for a worker that never came fails after the grace period, through the queue's settlement: refunded once.
        await ChildProcesses.WaitUntilAsync(async () =>
            (await Task.WhenAll(waiting.Select(id => web.Services.LoadTaskAsync(id)))).All(t => t.Status == GenerationTaskStatus.Failed),
            TimeSpan.FromSeconds(30));
        foreach (var id in waiting)
        {
            var task = await web.Services.LoadTaskAsync(id);
            Assert.Equal(TaskErrors.GeneratorUnavailable, task.ErrorCode);
            Assert.Contains($"No worker could run the model '{BananaLabFactory.TextOnlyModel}'", task.ErrorMessage);
            Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Release], (await EntriesAsync(web, id)).Select(e => e.Kind));
        }
        await ChildProcesses.WaitUntilAsync(async () =>
            (await web.Services.LoadTaskAsync(served.Value!.Id)).Status == GenerationTaskStatus.Succeeded, TimeSpan.FromSeconds(30));
        Assert.Equal(100 - 5, await web.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id, default));

        var models = (await (await web.CreateClient().GetAsync("/readyz")).ReadJsonAsync()).GetProperty("checks").GetProperty("models");
        Assert.Equal("Degraded", models.GetProperty("status").GetString());
        Assert.Contains($"{BananaLabFactory.TextOnlyModel}: no running worker serves it.", models.GetProperty("description").GetString());
        Assert.Contains($"{BananaLabFactory.TestModel}: served by test-model-box.", models.GetProperty("description").GetString());
    }

    private static IHost StartWorker(string dataDirectory, string name, string model, int graceSeconds) => WorkerHosts.Start(dataDirectory,
        new Dictionary<string, string> { ["Worker:Name"] = name, ["Worker:Models:0"] = model, ["Worker:UnservedGraceSeconds"] = graceSeconds.ToString() });

    private static async Task<List<CreditEntry>> EntriesAsync(BananaLabFactory web, Guid id)
    {
        await using var db = await web.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.CreditEntries.AsNoTracking().Where(e => e.TaskId == id).OrderBy(e => e.Id).ToListAsync();
    }

    /// <summary>A web node of a cluster: its worker off, its database shared with the worker processes.</summary>
    private sealed class WebNodeFactory(string dataDirectory) : BananaLabFactory(dataDirectory)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Worker:Enabled"] = "false" };
    }
}

/// <summary>The app with a catalog entry whose provider no generator of this build has.</summary>
public sealed class OrphanModelFactory : BananaLabFactory
{
    public const string Orphan = "orphan-model";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        [$"Models:{Orphan}:DisplayName"] = "Orphan model",
        [$"Models:{Orphan}:Provider"] = "nowhere",
        [$"Models:{Orphan}:NativeWidth"] = "64",
        [$"Models:{Orphan}:NativeHeight"] = "64",
        [$"Models:{Orphan}:Tiers:1K"] = "2",
    };
}
