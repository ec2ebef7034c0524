using System.Collections.Concurrent;
using BananaLab.Core.Data;
using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

using Tasks_ = BananaLab.Tests.Tasks;

namespace BananaLab.Tests.ScaleOut;

/// <summary>The queue and the reports on PostgreSQL, driven by hand (no worker running).</summary>
public sealed class PostgresQueueTests(PostgresQueueTests.Factory factory) : IClassFixture<PostgresQueueTests.Factory>
{
    public sealed class Factory : PostgresFactory
    {
        protected override IDictionary<string, string?> MoreSettings => new Dictionary<string, string?> { ["Worker:Enabled"] = "false" };
    }

    private TaskService Tasks => factory.Services.GetRequiredService<TaskService>();
    private TaskQueue Queue => factory.Services.GetRequiredService<TaskQueue>();

    [Fact]
    public async Task Concurrent_workers_skip_each_others_locks_and_claim_every_task_exactly_once()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        await factory.Services.HoldQueuedTasksAsync();
        var submitted = new HashSet<Guid>();
        for (var i = 0; i < 120; i++) submitted.Add(await factory.Services.SubmitTestTaskAsync(user.Id, $"race {i}"));

        // 8 loops claim at once until the queue is empty; SKIP LOCKED means none of them waits on another's row.
        var claims = new ConcurrentBag<(string Worker, Guid Id)>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            while (await Queue.ClaimAsync($"racer-{w}", TimeSpan.FromMinutes(5), default) is { } task) claims.Add(($"racer-{w}", task.Id));
        })));

        Assert.Equal(submitted.Order(), claims.Select(c => c.Id).Where(submitted.Contains).Order());
        Assert.True(claims.Select(c => c.Worker).Distinct().Count() > 1, "one loop claimed everything");
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var claimed = await db.Tasks.Where(t => submitted.Contains(t.Id)).ToListAsync();
        Assert.All(claimed, t =>
        {
            Assert.Equal(GenerationTaskStatus.Running, t.Status);
            Assert.Equal(1, t.Attempts);
            Assert.Equal(claims.Single(c => c.Id == t.Id).Worker, t.WorkerName);
        });
    }

    [Fact]
    public async Task Batched_claim_takes_the_oldest_task_and_only_compatible_ones_within_the_limit()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        await Tasks_.BatchClaimScenarios.Takes_the_oldest_task_and_only_compatible_ones_within_the_limit(factory.Services, user.Id);
    }

    [Fact]
    public async Task Concurrent_batched_claims_take_every_task_exactly_once()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 10_000);
        await Tasks_.BatchClaimScenarios.Concurrent_batched_claims_take_every_task_exactly_once(factory.Services, user.Id);
    }

    [Fact]
    public async Task A_worker_claims_only_the_models_it_serves()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        await factory.Services.HoldQueuedTasksAsync();
        var forText = await factory.Services.SubmitTestTaskAsync(user.Id, "for the text-only box", BananaLabFactory.TextOnlyModel);
        var forTest = await factory.Services.SubmitTestTaskAsync(user.Id, "for the test box");

        Assert.Null(await Queue.ClaimAsync("other-box", TimeSpan.FromMinutes(1), default, ["no-such-model"]));
        Assert.Equal(forTest, (await Queue.ClaimAsync("test-box", TimeSpan.FromMinutes(1), default, [BananaLabFactory.TestModel]))!.Id);
        Assert.Null(await Queue.ClaimAsync("test-box", TimeSpan.FromMinutes(1), default, [BananaLabFactory.TestModel]));
        Assert.Equal(forText, (await Queue.ClaimAsync("any-box", TimeSpan.FromMinutes(1), default))!.Id);
    }

    [Fact]
    public async Task Prompt_search_ignores_case_as_on_sqlite_and_takes_wildcards_literally()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        var banana = await factory.Services.SubmitTestTaskAsync(user.Id, "A Yellow BANANA");
        await factory.Services.SubmitTestTaskAsync(user.Id, "100_percent apple");

        var found = await Tasks.ListAsync(user.Id, new TaskQuery { Search = "yellow banana" }, default);
        Assert.Equal([banana], found.Items.Select(t => t.Id));
        Assert.Empty((await Tasks.ListAsync(user.Id, new TaskQuery { Search = "100%" }, default)).Items);
        Assert.Single((await Tasks.ListAsync(user.Id, new TaskQuery { Search = "100_p" }, default)).Items);
        // Beyond A–Z too: PostgreSQL's lower() folds every letter, and the pattern is folded the same way.
        var dessert = await factory.Services.SubmitTestTaskAsync(user.Id, "Crème BRÛLÉE on a plate");
        Assert.Equal([dessert], (await Tasks.ListAsync(user.Id, new TaskQuery { Search = "brûlée" }, default)).Items.Select(t => t.Id));
        Assert.Equal([dessert], (await Tasks.ListAsync(user.Id, new TaskQuery { Search = "CRÈME" }, default)).Items.Select(t => t.Id));
    }

    [Fact]
    public async Task The_dashboard_buckets_tasks_by_utc_hour()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "counted in this hour");
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
            await db.Tasks.Where(t => t.Id == id).ExecuteUpdateAsync(s => s.SetProperty(t => t.CreatedAt, new DateTime(2026, 3, 1, 23, 59, 0, DateTimeKind.Utc)));

        var dashboard = await factory.Services.GetRequiredService<AdminReports>()
            .DashboardAsync(new DateTime(2026, 3, 2, 0, 30, 0, DateTimeKind.Utc), default);

        var hour = Assert.Single(dashboard.Hours, h => h.Total > 0);
        Assert.Equal(new DateTime(2026, 3, 1, 23, 0, 0, DateTimeKind.Utc), hour.HourStart);
        Assert.Equal(1, hour.ByStatus[GenerationTaskStatus.Queued]);
    }
}
