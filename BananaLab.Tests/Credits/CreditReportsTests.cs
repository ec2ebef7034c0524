using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Credits;

public sealed class CreditReportsTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private CreditReports Reports => factory.Services.GetRequiredService<CreditReports>();
    private IDbContextFactory<BananaLabDbContext> Db => factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();

    [Fact]
    public async Task Daily_spend_sums_captures_per_utc_calendar_day_whatever_the_time_of_day()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var (other, _) = await factory.CreateUserAsync(credits: 100);
        var today = DateTime.UtcNow.Date;
        await AddAsync(
            Capture(user.Id, today.AddTicks(1), 3),
            Capture(user.Id, today.AddMinutes(1), 4),
            // The first and last instants of yesterday belong to yesterday, not today or the day before.
            Capture(user.Id, today.AddDays(-1), 5),
            Capture(user.Id, today.AddTicks(-1), 6),
            Capture(user.Id, today.AddDays(-29).AddHours(12), 7),
            // Outside the 30-day window, not a charge, or someone else's: not counted.
            Capture(user.Id, today.AddDays(-30).AddHours(23), 100),
            new CreditEntry { UserId = user.Id, Kind = CreditEntryKind.Reserve, Amount = -9, Credits = 9, CreatedAt = today.AddHours(1) },
            Capture(other.Id, today.AddMinutes(2), 50));

        var spend = await Reports.DailySpendAsync(user.Id, 30);

        Assert.Equal(30, spend.Count);
        Assert.Equal(DateOnly.FromDateTime(today.AddDays(-29)), spend[0].Day);
        Assert.Equal(DateOnly.FromDateTime(today), spend[^1].Day);
        Assert.Equal(7, spend[^1].Credits);
        Assert.Equal(11, spend[^2].Credits);
        Assert.Equal(7, spend[0].Credits);
        Assert.Equal(25, spend.Sum(d => d.Credits));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => DateOnly.FromDateTime(today.AddDays(i - 29))), spend.Select(d => d.Day));
    }

    [Fact]
    public async Task A_user_without_charges_gets_a_zero_for_every_day()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 10);

        var spend = await Reports.DailySpendAsync(user.Id, 7);

        Assert.Equal(7, spend.Count);
        Assert.All(spend, d => Assert.Equal(0, d.Credits));
    }

    [Fact]
    public async Task Counts_only_the_users_own_ledger_entries()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 10);
        var before = await Reports.CountEntriesAsync(user.Id);
        await factory.Services.GetRequiredService<CreditLedger>().GrantAsync(user.Id, 5, "test grant");
        var (other, _) = await factory.CreateUserAsync(credits: 10);
        await factory.Services.GetRequiredService<CreditLedger>().GrantAsync(other.Id, 5, "someone else");

        Assert.Equal(before + 1, await Reports.CountEntriesAsync(user.Id));
    }

    private static CreditEntry Capture(Guid userId, DateTime at, int credits) => new()
    {
        UserId = userId, Kind = CreditEntryKind.Capture, Amount = 0, Credits = credits, CreatedAt = DateTime.SpecifyKind(at, DateTimeKind.Utc),
    };

    private async Task AddAsync(params CreditEntry[] entries)
    {
        await using var db = await Db.CreateDbContextAsync();
        db.CreditEntries.AddRange(entries);
        await db.SaveChangesAsync();
    }
}
