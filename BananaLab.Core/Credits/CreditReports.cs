using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Credits;

/// <summary>Credits charged on one UTC calendar day.</summary>
public readonly record struct DailySpend(DateOnly Day, int Credits);

/// <summary>Read-only summaries of a user's ledger for the studio (ledger size, daily spend).</summary>
public sealed class CreditReports(IDbContextFactory<BananaLabDbContext> dbFactory, TimeProvider clock)
{
    public async Task<int> CountEntriesAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.CreditEntries.CountAsync(e => e.UserId == userId, cancellationToken);
    }

    /// <summary>
    /// Credits captured (charged) per UTC day over the last <paramref name="days"/> days, today included,
    /// oldest first, with a zero for every day without charges. The grouping runs in the database.
    /// </summary>
    public async Task<IReadOnlyList<DailySpend>> DailySpendAsync(Guid userId, int days, CancellationToken cancellationToken = default)
    {
        if (days is < 1 or > 366) throw new ArgumentOutOfRangeException(nameof(days), "Between 1 and 366 days.");
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var first = today.AddDays(1 - days);
        var from = first.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Timestamps are stored as ISO-8601 text in UTC; DateTime.Date becomes SQLite's 'start of day', so rows
        // group by calendar day whatever their time of day.
        var totals = await db.CreditEntries
            .Where(e => e.UserId == userId && e.Kind == CreditEntryKind.Capture && e.CreatedAt >= from)
            .GroupBy(e => e.CreatedAt.Date)
            .Select(g => new { Day = g.Key, Credits = g.Sum(e => e.Credits) })
            .ToListAsync(cancellationToken);
        var byDay = totals.ToDictionary(t => DateOnly.FromDateTime(t.Day), t => t.Credits);

        return Enumerable.Range(0, days)
            .Select(offset => first.AddDays(offset))
            .Select(day => new DailySpend(day, byDay.GetValueOrDefault(day)))
            .ToList();
    }
}
