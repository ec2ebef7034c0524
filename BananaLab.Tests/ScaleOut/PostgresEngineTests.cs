using System.Collections.Concurrent;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.ScaleOut;

/// <summary>The task engine on a real PostgreSQL server: the same behaviour as on SQLite, through the provider's own SQL.</summary>
public sealed class PostgresEngineTests : IClassFixture<PostgresEngineTests.Factory>
{
    public sealed class Factory : PostgresFactory
    {
        protected override IDictionary<string, string?> MoreSettings => new Dictionary<string, string?> { ["Worker:PollIntervalMs"] = "60000" };
    }

    private readonly Factory _factory;

    public PostgresEngineTests(Factory factory) => _factory = factory;

    [Fact]
    public async Task Submitted_task_runs_to_completion_and_is_charged_once()
    {
        var (user, key) = await _factory.CreateUserAsync(credits: 100);
        using var client = _factory.CreateClient(key);
        var created = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "a banana on postgres", count = 2 });
        var done = await client.WaitForTerminalAsync(created.Id);

        Assert.Equal("succeeded", done.Status);
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.IsType<Core.Data.Postgres.PostgresDbContext>(db);
        var entries = await db.CreditEntries.Where(e => e.TaskId == created.Id).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync();
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], entries);
        Assert.Equal(90, (await db.Users.SingleAsync(u => u.Id == user.Id)).CreditBalance);
        Assert.Equal(2, await db.TaskImages.CountAsync(i => i.TaskId == created.Id));
    }

    [Fact]
    public async Task An_idle_worker_is_woken_by_the_database_when_another_process_queues_a_task()
    {
        // The worker polls once a minute here, and the task is queued by another host on the same
        // database (whose in-process wake-up cannot reach this worker): only NOTIFY can start it in time.
        var (user, key) = await _factory.CreateUserAsync(credits: 100);
        var settings = BananaLabFactory.TestSettings(_factory.DataDirectory);
        settings["Database:Provider"] = "Postgres";
        settings["ConnectionStrings:BananaLab"] = _factory.ConnectionString;
        using var otherHost = ChildProcesses.CoreServices(settings);
        await Task.Delay(500); // let the worker's loops go idle on their poll

        var outcome = await otherHost.Services.GetRequiredService<TaskService>()
            .SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "wake up" }, default);
        using var client = _factory.CreateClient(key);
        var done = await client.WaitForTerminalAsync(outcome.Value!.Id, timeoutSeconds: 15);

        Assert.Equal("succeeded", done.Status);
    }

    [Fact]
    public async Task Readiness_checks_that_postgres_answers()
    {
        using var client = _factory.CreateClient();

        var report = await (await client.GetAsync("/readyz")).ReadJsonAsync();

        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal("Postgres answers.", report.GetProperty("checks").GetProperty("database").GetProperty("description").GetString());
    }
}
