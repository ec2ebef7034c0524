using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Credits;

public sealed class CreditLedgerTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private CreditLedger Ledger => factory.Services.GetRequiredService<CreditLedger>();
    private IDbContextFactory<BananaLabDbContext> Db => factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Concurrent_settlements_of_one_task_charge_or_refund_exactly_once(bool captureFirst)
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var taskId = await ReserveTaskAsync(user.Id, 30);

        // 16 threads race to settle the same task, half capturing, half releasing.
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            await using var db = await Db.CreateDbContextAsync();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var capture = (i % 2 == 0) == captureFirst;
            var settled = capture
                ? await Ledger.CaptureAsync(db, user.Id, taskId, 30, default)
                : await Ledger.ReleaseAsync(db, user.Id, taskId, 30, "test", default);
            if (settled) await transaction.CommitAsync(); else await transaction.RollbackAsync();
            return (capture, settled);
        })));

        Assert.Single(results, r => r.settled);
        var winner = results.Single(r => r.settled);
        await using var check = await Db.CreateDbContextAsync();
        var settlements = await check.CreditEntries
            .Where(e => e.TaskId == taskId && (e.Kind == CreditEntryKind.Capture || e.Kind == CreditEntryKind.Release)).ToListAsync();
        Assert.Single(settlements);
        Assert.Equal(winner.capture ? 70 : 100, await Ledger.GetBalanceAsync(user.Id));
        await AssertBalanceMatchesEntriesAsync(user.Id);
    }

    [Fact]
    public async Task A_task_can_be_reserved_only_once()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var taskId = await ReserveTaskAsync(user.Id, 10);

        await using var db = await Db.CreateDbContextAsync();
        await using var transaction = await db.Database.BeginTransactionAsync();
        Assert.True(await Ledger.ReserveAsync(db, user.Id, taskId, 10, default));
        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
    }

    [Fact]
    public async Task Balance_never_goes_negative()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 10);

        await using (var db = await Db.CreateDbContextAsync())
            Assert.False(await Ledger.ReserveAsync(db, user.Id, Guid.NewGuid(), 11, default));
        Assert.Null(await Ledger.AdjustAsync(user.Id, -11, "too much", user.Id));
        Assert.Equal(0, await Ledger.AdjustAsync(user.Id, -10, "all of it", user.Id));

        await using var raw = await Db.CreateDbContextAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => raw.Users.Where(u => u.Id == user.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.CreditBalance, -1)));
        await AssertBalanceMatchesEntriesAsync(user.Id);
    }

    [Fact]
    public async Task Concurrent_reservations_never_overdraw()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 50);
        var reserved = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(async () =>
        {
            try { await ReserveTaskAsync(user.Id, 10); return true; }
            catch (InvalidOperationException) { return false; }
        })));

        Assert.Equal(5, reserved.Count(r => r));
        Assert.Equal(0, await Ledger.GetBalanceAsync(user.Id));
        await AssertBalanceMatchesEntriesAsync(user.Id);
    }

    [Fact]
    public async Task Sum_of_entries_equals_the_balance_after_mixed_activity()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        await Ledger.GrantAsync(user.Id, 40, "purchase");
        await Ledger.AdjustAsync(user.Id, -15, "goodwill correction", user.Id);
        var charged = await ReserveTaskAsync(user.Id, 20);
        var refunded = await ReserveTaskAsync(user.Id, 25);
        await SettleAsync(user.Id, charged, capture: true, 20);
        await SettleAsync(user.Id, refunded, capture: false, 25);

        Assert.Equal(100 + 40 - 15 - 20, await Ledger.GetBalanceAsync(user.Id));
        await AssertBalanceMatchesEntriesAsync(user.Id);
    }

    private async Task<Guid> ReserveTaskAsync(Guid userId, int credits)
    {
        var taskId = Guid.CreateVersion7();
        await using var db = await Db.CreateDbContextAsync();
        await using var transaction = await db.Database.BeginTransactionAsync();
        if (!await Ledger.ReserveAsync(db, userId, taskId, credits, default))
            throw new InvalidOperationException("insufficient credits");
        db.Tasks.Add(new GenerationTask
        {
            Id = taskId, UserId = userId, ModelId = BananaLabFactory.TestModel, Provider = "test", Prompt = "ledger",
            Status = GenerationTaskStatus.Running, CreditsReserved = credits, ImageCount = 1, CreatedAt = DateTime.UtcNow,
        });
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        return taskId;
    }

    private async Task SettleAsync(Guid userId, Guid taskId, bool capture, int credits)
    {
        await using var db = await Db.CreateDbContextAsync();
        await using var transaction = await db.Database.BeginTransactionAsync();
        Assert.True(capture
            ? await Ledger.CaptureAsync(db, userId, taskId, credits, default)
            : await Ledger.ReleaseAsync(db, userId, taskId, credits, "test", default));
        await transaction.CommitAsync();
    }

    private async Task AssertBalanceMatchesEntriesAsync(Guid userId)
    {
        await using var db = await Db.CreateDbContextAsync();
        var sum = await db.CreditEntries.Where(e => e.UserId == userId).SumAsync(e => e.Amount);
        Assert.Equal(await Ledger.GetBalanceAsync(userId), sum);
    }
}
