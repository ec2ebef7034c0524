using System.Data.Common;
using System.Net;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Tests.ScaleOut;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

namespace BananaLab.Tests.Tasks;

/// <summary>The submit path's group commit on SQLite files.</summary>
public sealed class SqliteSubmitGroupCommitTests(NoWorkerFactory factory)
    : SubmitGroupCommitTests(factory), IClassFixture<NoWorkerFactory>;

/// <summary>The submit path's group commit on the test PostgreSQL server.</summary>
public sealed class PostgresSubmitGroupCommitTests(PostgresQueueTests.Factory factory)
    : SubmitGroupCommitTests(factory), IClassFixture<PostgresQueueTests.Factory>;

/// <summary>
/// Concurrent submissions written in shared transactions (<see cref="SubmitGroupCommit"/>) keep every guarantee of a
/// transaction each: one reservation per task, a balance that never goes negative, idempotency keys, and members that
/// fail or are canceled leave the others alone. The user's row is held in an open transaction while the submissions are
/// sent, so the writer waits and they pile up into groups.
/// </summary>
public abstract class SubmitGroupCommitTests(BananaLabFactory factory)
{
    private const int Price = 5; // test-model, 1K, per image
    private TaskService Tasks => factory.Services.GetRequiredService<TaskService>();
    private SubmitGroupCommit GroupCommit => factory.Services.GetRequiredService<SubmitGroupCommit>();
    private CreditLedger Ledger => factory.Services.GetRequiredService<CreditLedger>();
    private IDbContextFactory<BananaLabDbContext> Db => factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();

    [Fact]
    public async Task Concurrent_submits_committed_in_groups_keep_every_ledger_invariant()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        var groupedBefore = GroupCommit.GroupedSubmissions;

        Task<Outcome<TaskView>>[] submits;
        await using (await HoldWritesAsync(user.Id))
        {
            submits = Enumerable.Range(0, 30).Select(i => Task.Run(() => Tasks.SubmitAsync(user.Id, new SubmitTaskRequest
            {
                ModelId = BananaLabFactory.TestModel, Prompt = $"group {i}", ImageCount = i % 3 == 0 ? 2 : 1, Seed = i,
                NegativePrompt = i % 2 == 0 ? "blur" : null,
            }, default))).ToArray();
            await Task.Delay(300); // let them reach the writer; correctness never depends on it
        }
        var outcomes = await Task.WhenAll(submits);

        Assert.All(outcomes, o => Assert.True(o.Succeeded, o.Error?.ToString()));
        Assert.True(GroupCommit.GroupedSubmissions > groupedBefore, "no two submissions shared a transaction");
        Assert.All(outcomes, o => Assert.True(o.Value!.QueuePosition >= 1));
        // The row written by the prepared INSERT reads back through EF Core as it was submitted.
        var stored = await factory.Services.LoadTaskAsync(outcomes[6].Value!.Id);
        Assert.Equal((GenerationTaskStatus.Queued, "group 6", 6L, 2, "blur", DateTimeKind.Utc, 2 * Price),
            (stored.Status, stored.Prompt, stored.Seed, stored.ImageCount, stored.NegativePrompt, stored.CreatedAt.Kind, stored.CreditsReserved));
        Assert.Equal(outcomes[6].Value!.Task.CreatedAt, stored.CreatedAt, TimeSpan.FromMilliseconds(1));
        await AssertLedgerInvariantsAsync(user.Id, 1000, expectedTasks: 30);
    }

    [Fact]
    public async Task Concurrent_submits_beyond_the_balance_fit_exactly_and_the_rest_get_insufficient_credits()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 10 * Price + 2);

        Task<Outcome<TaskView>>[] submits;
        await using (await HoldWritesAsync(user.Id))
        {
            submits = Enumerable.Range(0, 30).Select(i => Task.Run(() => Tasks.SubmitAsync(user.Id,
                new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = $"race {i}" }, default))).ToArray();
            await Task.Delay(300);
        }
        var outcomes = await Task.WhenAll(submits);

        Assert.Equal(10, outcomes.Count(o => o.Succeeded));
        Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.Equal("insufficient_credits", o.Error!.Code));
        Assert.Equal(2, await Ledger.GetBalanceAsync(user.Id));
        await AssertLedgerInvariantsAsync(user.Id, 10 * Price + 2, expectedTasks: 10);
    }

    [Fact]
    public async Task Idempotent_replays_of_keys_submitted_in_one_group_answer_with_the_first_task()
    {
        var (user, apiKey) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(apiKey);

        Task<HttpResponseMessage>[] requests;
        await using (await HoldWritesAsync(user.Id))
        {
            requests = Enumerable.Range(0, 15).Select(i =>
                ExactlyOnceTests.SubmitUntilSettledAsync(client, $"group-key-{i % 5}", $"keyed {i % 5}")).ToArray();
            await Task.Delay(300);
        }
        var responses = await Task.WhenAll(requests);
        var replays = await Task.WhenAll(Enumerable.Range(0, 5).Select(k =>
            ExactlyOnceTests.SubmitUntilSettledAsync(client, $"group-key-{k}", $"keyed {k}")));

        Assert.All(responses.Concat(replays), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = new List<(int Key, string? Id)>();
        for (var i = 0; i < 15; i++) ids.Add((i % 5, (await responses[i].ReadJsonAsync()).GetProperty("id").GetString()));
        for (var k = 0; k < 5; k++) ids.Add((k, (await replays[k].ReadJsonAsync()).GetProperty("id").GetString()));
        Assert.All(ids.GroupBy(i => i.Key), key => Assert.Single(key.Select(i => i.Id).Distinct()));
        Assert.Equal(5, ids.Select(i => i.Id).Distinct().Count());
        Assert.All(replays, r => Assert.Equal("true", r.Headers.GetValues("Idempotent-Replayed").Single()));
        Assert.Equal(100 - 5 * Price, await Ledger.GetBalanceAsync(user.Id));
        await AssertLedgerInvariantsAsync(user.Id, 100, expectedTasks: 5);
    }

    [Fact]
    public async Task A_member_that_fails_is_rolled_back_alone_and_the_others_of_its_group_commit()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var existing = await factory.Services.SubmitTestTaskAsync(user.Id, "already stored");

        Task<SubmissionCommit> pilot, first, failing, last;
        await using (await HoldWritesAsync(user.Id))
        {
            pilot = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 10)));
            await Task.Delay(300); // the writer now waits in the pilot's group; the next three queue up behind it
            first = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 7)));
            // Its reservation fits; then its task row collides with a stored task's id.
            var duplicate = NewTask(user.Id, 20);
            duplicate.Id = existing;
            failing = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 1), duplicate));
            last = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 3)));
        }

        await pilot;
        await Assert.ThrowsAnyAsync<DbException>(() => failing);
        var (committedFirst, committedLast) = (await first, await last);
        Assert.Null(committedFirst.Refused);
        Assert.Null(committedLast.Refused);
        Assert.True(committedFirst.GroupSize >= 3, $"group of {committedFirst.GroupSize}");
        Assert.Equal(100 - Price - 10 - 7 - 3, await Ledger.GetBalanceAsync(user.Id));
        await AssertLedgerInvariantsAsync(user.Id, 100, expectedTasks: 4);
    }

    [Fact]
    public async Task A_member_whose_caller_canceled_before_the_commit_writes_nothing()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        using var cancel = new CancellationTokenSource();
        var canceledTask = NewTask(user.Id, 10);

        Task<SubmissionCommit> pilot, canceled, kept;
        await using (await HoldWritesAsync(user.Id))
        {
            pilot = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 10)));
            await Task.Delay(300);
            canceled = GroupCommit.CommitAsync(Pending(user.Id, cancel.Token, canceledTask));
            kept = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 4)));
            cancel.Cancel();
        }

        await pilot;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled);
        Assert.Null((await kept).Refused);
        await using var db = await Db.CreateDbContextAsync();
        Assert.False(await db.Tasks.AnyAsync(t => t.Id == canceledTask.Id));
        Assert.Equal(100 - 10 - 4, await Ledger.GetBalanceAsync(user.Id));
        await AssertLedgerInvariantsAsync(user.Id, 100, expectedTasks: 2);
    }

    [Fact]
    public async Task A_member_that_does_not_fit_gets_its_own_refusal_and_the_others_commit()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 30);

        Task<SubmissionCommit> pilot, tooBig, fits;
        await using (await HoldWritesAsync(user.Id))
        {
            pilot = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 10)));
            await Task.Delay(300);
            tooBig = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 15), NewTask(user.Id, 10)));
            fits = GroupCommit.CommitAsync(Pending(user.Id, NewTask(user.Id, 20)));
        }

        await pilot;
        Assert.Equal("This needs 25 credits, balance is 20.", (await tooBig).Refused?.Message);
        Assert.Null((await fits).Refused);
        Assert.Equal(0, await Ledger.GetBalanceAsync(user.Id));
        await AssertLedgerInvariantsAsync(user.Id, 30, expectedTasks: 2);
    }

    private static PendingSubmission Pending(Guid userId, params GenerationTask[] tasks) => Pending(userId, CancellationToken.None, tasks);

    private static PendingSubmission Pending(Guid userId, CancellationToken cancellationToken, params GenerationTask[] tasks) =>
        new(userId, tasks, [.. tasks.Select(t => ModerationDecisionRecord.From(
                new ModerationDecision(true, [], [], t.Prompt, LatencyMicroseconds: 1), userId, t.Id, "prompt", "api", t.CreatedAt))],
            null, tasks[0].Id, cancellationToken);

    private static GenerationTask NewTask(Guid userId, int credits) => new()
    {
        Id = Guid.CreateVersion7(), UserId = userId, ModelId = BananaLabFactory.TestModel, Provider = "test", Prompt = "direct",
        Status = GenerationTaskStatus.Queued, CreditsReserved = credits, ImageCount = 1, Width = 64, Height = 64,
        CreatedAt = DateTime.UtcNow, NotBefore = DateTime.UtcNow.AddYears(1),
    };

    /// <summary>
    /// Takes the user's row in an open transaction (on SQLite the database's write lock too) until disposed, so the
    /// group writer waits on it while submissions queue up.
    /// </summary>
    private async Task<IAsyncDisposable> HoldWritesAsync(Guid userId)
    {
        var db = await Db.CreateDbContextAsync();
        var transaction = await db.Database.BeginTransactionAsync();
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.CreditBalance, u => u.CreditBalance));
        return new Hold(db, transaction);
    }

    private sealed class Hold(BananaLabDbContext db, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.CommitAsync();
            await transaction.DisposeAsync();
            await db.DisposeAsync();
        }
    }

    /// <summary>
    /// One reservation per task for its price, the credits taken equal to the reservations, ledger rows in step with the
    /// balance (each row's balance-after is the running sum), a moderation record per task, and a balance never below zero.
    /// </summary>
    private async Task AssertLedgerInvariantsAsync(Guid userId, int initialCredits, int expectedTasks)
    {
        await using var db = await Db.CreateDbContextAsync();
        var tasks = await db.Tasks.AsNoTracking().Where(t => t.UserId == userId).ToListAsync();
        var entries = await db.CreditEntries.AsNoTracking().Where(e => e.UserId == userId).OrderBy(e => e.Id).ToListAsync();
        var reserves = entries.Where(e => e.Kind == CreditEntryKind.Reserve).ToList();
        var balance = await Ledger.GetBalanceAsync(userId);

        Assert.Equal(expectedTasks, tasks.Count);
        Assert.Equal(tasks.Count, reserves.Count);
        Assert.Equal(tasks.OrderBy(t => t.Id).Select(t => (t.Id, t.CreditsReserved)),
            reserves.OrderBy(r => r.TaskId).Select(r => (r.TaskId!.Value, r.Credits)));
        Assert.Equal(initialCredits - balance, reserves.Sum(r => r.Credits));
        Assert.True(balance >= 0);
        var running = 0;
        foreach (var entry in entries)
        {
            running += entry.Amount;
            Assert.Equal(running, entry.BalanceAfter);
        }
        Assert.Equal(balance, running);
        var decided = await db.Set<ModerationDecisionRecord>().Where(d => d.UserId == userId && d.TaskId != null)
            .Select(d => d.TaskId!.Value).Distinct().ToListAsync();
        Assert.Equal(tasks.Select(t => t.Id).Order(), decided.Order());
    }
}

public sealed class TasksOptionsTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    public void A_submit_group_size_out_of_range_is_refused_at_start_naming_the_key(string value)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tasks:SubmitBatchMax"] = value });
        builder.AddBananaLabTasks();
        using var host = builder.Build();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TasksOptions>>().Value);
        Assert.Contains("Tasks:SubmitBatchMax must be between 1 and 1000", error.Message);
    }
}
