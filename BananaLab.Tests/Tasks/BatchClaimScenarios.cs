using System.Collections.Concurrent;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Tasks;

/// <summary>
/// The batched claim (<see cref="BatchClaim"/>), driven by hand over a host without a worker; run on SQLite
/// (<see cref="BatchClaimTests"/>) and PostgreSQL (<c>PostgresQueueTests</c>).
/// </summary>
public static class BatchClaimScenarios
{
    private static async Task<Guid> SubmitAsync(IServiceProvider services, Guid userId, string prompt, int steps = 2, double guidance = 5,
        int images = 1)
    {
        var outcome = await services.GetRequiredService<TaskService>().SubmitAsync(userId, new SubmitTaskRequest
        {
            ModelId = BananaLabFactory.TestModel, Prompt = prompt, Steps = steps, Guidance = guidance, ImageCount = images,
        }, default);
        return outcome.Value?.Id ?? throw new InvalidOperationException(outcome.Error?.ToString());
    }

    /// <summary>A claim takes the oldest task and, oldest first, the tasks that can share its calls, within the image limit.</summary>
    public static async Task Takes_the_oldest_task_and_only_compatible_ones_within_the_limit(IServiceProvider services, Guid userId)
    {
        await services.HoldQueuedTasksAsync();
        var queue = services.GetRequiredService<TaskQueue>();
        var head = await SubmitAsync(services, userId, "head");
        var otherSteps = await SubmitAsync(services, userId, "other step count", steps: 3);
        var joiner = await SubmitAsync(services, userId, "joins, other guidance", guidance: 9);
        var unguided = await SubmitAsync(services, userId, "no guidance", guidance: 1);
        var tooMany = await SubmitAsync(services, userId, "three images would pass the limit", images: 3);
        var last = await SubmitAsync(services, userId, "fits the last image");
        var batch = new BatchClaim(3, [BananaLabFactory.TestModel]);

        var first = await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), batch, default);
        Assert.Equal([head, joiner], first.Select(t => t.Id));
        Assert.All(first, t => Assert.Equal((GenerationTaskStatus.Running, "w", 1), (t.Status, t.WorkerName, t.Attempts)));

        // Oldest first: the task of another step count now leads, alone; then the unguided one.
        Assert.Equal([otherSteps], (await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), batch, default)).Select(t => t.Id));
        Assert.Equal([unguided], (await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), batch, default)).Select(t => t.Id));
        // A head larger than the limit still runs; nothing joins it.
        Assert.Equal([tooMany], (await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), batch, default)).Select(t => t.Id));
        Assert.Equal([last], (await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), batch, default)).Select(t => t.Id));
        Assert.Empty(await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), batch, default));

        // A model not named batchable is claimed one task at a time.
        var a = await SubmitAsync(services, userId, "a");
        var b = await SubmitAsync(services, userId, "b");
        var single = new BatchClaim(3, ["another-model"]);
        Assert.Equal([a], (await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), single, default)).Select(t => t.Id));
        Assert.Equal([b], (await queue.ClaimBatchAsync("w", TimeSpan.FromMinutes(1), single, default)).Select(t => t.Id));

        // Each claimed task's run is on record once.
        await using var db = await services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var ids = new[] { head, joiner, otherSteps, unguided, tooMany, last, a, b };
        Assert.Equal(ids.Order(), (await db.TaskAttempts.Where(r => ids.Contains(r.TaskId)).Select(r => r.TaskId).ToListAsync()).Order());
    }

    /// <summary>Several workers claiming batches at once take every task exactly once, each batch compatible and within the limit.</summary>
    public static async Task Concurrent_batched_claims_take_every_task_exactly_once(IServiceProvider services, Guid userId)
    {
        await services.HoldQueuedTasksAsync();
        var queue = services.GetRequiredService<TaskQueue>();
        var submitted = new HashSet<Guid>();
        for (var i = 0; i < 90; i++)
            submitted.Add(await SubmitAsync(services, userId, $"race {i}", steps: 2 + i % 3, images: 1 + i % 2));
        var batch = new BatchClaim(4, [BananaLabFactory.TestModel]);

        var claims = new ConcurrentBag<(string Worker, IReadOnlyList<GenerationTask> Tasks)>();
        await Task.WhenAll(Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            while (await queue.ClaimBatchAsync($"racer-{w}", TimeSpan.FromMinutes(5), batch, default) is { Count: > 0 } tasks)
                claims.Add(($"racer-{w}", tasks));
        })));

        var claimed = claims.SelectMany(c => c.Tasks.Select(t => t.Id)).Where(submitted.Contains).ToList();
        Assert.Equal(submitted.Order(), claimed.Order());
        Assert.Contains(claims, c => c.Tasks.Count > 1);
        Assert.All(claims, c =>
        {
            Assert.Single(c.Tasks.Select(t => (t.ModelId, t.Steps, t.Guidance > 1)).Distinct());
            Assert.True(c.Tasks.Count == 1 || c.Tasks.Sum(t => t.ImageCount) <= 4, $"{c.Tasks.Sum(t => t.ImageCount)} images in one claim");
        });
        await using var db = await services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var rows = await db.Tasks.Where(t => submitted.Contains(t.Id)).ToListAsync();
        Assert.All(rows, t =>
        {
            Assert.Equal((GenerationTaskStatus.Running, 1), (t.Status, t.Attempts));
            Assert.Equal(claims.Single(c => c.Tasks.Any(x => x.Id == t.Id)).Worker, t.WorkerName);
        });
    }
}

/// <summary>The batched claim on SQLite.</summary>
public sealed class BatchClaimTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    [Fact]
    public async Task Takes_the_oldest_task_and_only_compatible_ones_within_the_limit()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        await BatchClaimScenarios.Takes_the_oldest_task_and_only_compatible_ones_within_the_limit(factory.Services, user.Id);
    }

    [Fact]
    public async Task Concurrent_batched_claims_take_every_task_exactly_once()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 10_000);
        await BatchClaimScenarios.Concurrent_batched_claims_take_every_task_exactly_once(factory.Services, user.Id);
    }
}
