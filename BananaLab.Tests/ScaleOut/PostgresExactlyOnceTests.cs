using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.ScaleOut;

/// <summary>The idempotency claims (raw INSERT .. ON CONFLICT) and the cancel-aware settlement on PostgreSQL.</summary>
public sealed class PostgresExactlyOnceTests(PostgresQueueTests.Factory factory) : IClassFixture<PostgresQueueTests.Factory>
{
    private IdempotencyStore Store => factory.Services.GetRequiredService<IdempotencyStore>();

    [Fact]
    public async Task Concurrent_claims_of_one_key_give_one_fresh_claim()
    {
        var (user, _) = await factory.CreateUserAsync();

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.ClaimAsync(user.Id, "pg-key", "tasks.create", "hash", default))));

        Assert.Single(claims.OfType<IdempotencyClaim.Fresh>());
        Assert.All(claims.Where(c => c is not IdempotencyClaim.Fresh), c => Assert.IsType<IdempotencyClaim.InProgress>(c));
    }

    [Fact]
    public async Task An_identical_synchronous_call_finds_the_first_calls_task()
    {
        var (user, _) = await factory.CreateUserAsync();
        var call = new SynchronousSubmission("openai", "body-hash", MarkedRetry: false, TimeSpan.FromSeconds(5));
        var taskId = Guid.NewGuid();

        var first = Assert.IsType<RecentSubmissionClaim.Fresh>(await Store.ClaimRecentAsync(user.Id, call, default));
        Assert.IsType<RecentSubmissionClaim.Submitting>(await Store.ClaimRecentAsync(user.Id, call, default));
        await Store.RecordTaskAsync(first.RecordId, taskId, default);

        Assert.Equal(taskId, Assert.IsType<RecentSubmissionClaim.Existing>(await Store.ClaimRecentAsync(user.Id, call, default)).TaskId);
    }

    [Fact]
    public async Task A_cancel_accepted_while_running_makes_the_settlement_release()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "pg cancel");
        var queue = factory.Services.GetRequiredService<TaskQueue>();
        var task = await queue.ClaimAsync("pg-w", TimeSpan.FromMinutes(1), default);
        Assert.Equal(id, task?.Id);

        Assert.True((await factory.Services.GetRequiredService<TaskService>().CancelAsync(id, user.Id, default)).Succeeded);
        Assert.False(await queue.CompleteAsync(task!, "pg-w", [], 10, default));

        Assert.Equal(GenerationTaskStatus.Canceled, (await factory.Services.LoadTaskAsync(id)).Status);
        Assert.Equal(100, await factory.Services.GetRequiredService<Core.Credits.CreditLedger>().GetBalanceAsync(user.Id));
    }
}
