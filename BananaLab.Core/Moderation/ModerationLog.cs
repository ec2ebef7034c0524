using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Moderation;

/// <summary>Reads and writes the moderation audit trail (decisions made outside a task's own transaction).</summary>
public sealed class ModerationLog(IDbContextFactory<BananaLabDbContext> dbFactory)
{
    public async Task RecordAsync(ModerationDecisionRecord record, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Add(record);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ModerationDecisionRecord>> ForTaskAsync(Guid taskId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<ModerationDecisionRecord>().AsNoTracking().Where(r => r.TaskId == taskId).OrderBy(r => r.Id).ToListAsync(cancellationToken);
    }

    /// <summary>The newest decisions first; <paramref name="blockedOnly"/> narrows to refusals, <paramref name="review"/> to one review state.</summary>
    public async Task<(IReadOnlyList<ModerationDecisionRecord> Items, int Total)> ListAsync(bool blockedOnly, int page, int pageSize,
        CancellationToken cancellationToken, ModerationReviewState? review = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Set<ModerationDecisionRecord>().AsNoTracking().InReviewState(review);
        if (blockedOnly) query = query.Where(r => !r.Allowed);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(r => r.Id).Skip(Paging.Offset(page, pageSize)).Take(pageSize).ToListAsync(cancellationToken);
        return (items, total);
    }
}
