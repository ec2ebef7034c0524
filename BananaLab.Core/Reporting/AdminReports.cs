using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Reporting;

/// <summary>Tasks created in one hour of the dashboard window, by status, with what they cost and took.</summary>
public sealed record HourlyActivity(DateTime HourStart, IReadOnlyDictionary<GenerationTaskStatus, int> ByStatus,
    int CreditsCharged, double? AverageComputeMs)
{
    public int Total => ByStatus.Values.Sum();
}

/// <summary>The admin dashboard: 24 hourly buckets ending with the hour of <see cref="Until"/>, and the window totals.</summary>
public sealed record AdminDashboard(
    DateTime From,
    DateTime Until,
    IReadOnlyList<HourlyActivity> Hours,
    int Tasks,
    int Succeeded,
    int Failed,
    int Blocked,
    int Canceled,
    int CreditsCharged,
    double? AverageComputeMs,
    int Queued,
    int Running)
{
    /// <summary>Failed runs among finished runs (succeeded or failed); null when nothing finished.</summary>
    public double? FailureRate => Succeeded + Failed == 0 ? null : (double)Failed / (Succeeded + Failed);
}

/// <summary>Filters of the admin task log; every one is optional.</summary>
public sealed record AdminTaskQuery
{
    /// <summary>Part of the owner's email, case-insensitive.</summary>
    public string? UserEmail { get; init; }
    public Guid? UserId { get; init; }
    public GenerationTaskStatus? Status { get; init; }
    public string? ModelId { get; init; }
    public bool BlockedOnly { get; init; }
    public bool FailedOnly { get; init; }
    public DateTime? CreatedFrom { get; init; }
    /// <summary>Exclusive upper bound.</summary>
    public DateTime? CreatedTo { get; init; }
    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = 25;
}

public sealed record AdminTaskRow(TaskSnapshot Task, string UserEmail);

public sealed record AdminTaskPage(IReadOnlyList<AdminTaskRow> Items, int Total);

/// <summary>Filters of the admin moderation log.</summary>
public sealed record ModerationLogQuery
{
    public bool BlockedOnly { get; init; }
    /// <summary>One category, e.g. <c>violence</c>.</summary>
    public string? Category { get; init; }
    /// <summary>prompt, reference_image or output_image.</summary>
    public string? Subject { get; init; }
    public string? UserEmail { get; init; }
    /// <summary>One state of the review loop (unreviewed, review requested, marked wrong, marked correct).</summary>
    public ModerationReviewState? Review { get; init; }
    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = 25;
}

public sealed record ModerationLogRow(ModerationDecisionRecord Decision, string UserEmail);

public sealed record ModerationLogPage(IReadOnlyList<ModerationLogRow> Items, int Total);

/// <summary>Tasks waiting and running for one model right now.</summary>
public sealed record ModelQueueDepth(string ModelId, int Queued, int Running);

/// <summary>
/// Read-only aggregates and joined lists for the admin pages. Every count and sum runs in the database;
/// only the (at most 24 × statuses) grouped rows come back.
/// </summary>
public sealed class AdminReports(IDbContextFactory<BananaLabDbContext> dbFactory, TimeProvider clock)
{
    public const int WindowHours = 24;

    /// <summary>The last 24 hours up to <paramref name="until"/> (default: now), bucketed by the hour tasks were created.</summary>
    public async Task<AdminDashboard> DashboardAsync(DateTime? until, CancellationToken cancellationToken)
    {
        var end = (until ?? clock.GetUtcNow().UtcDateTime).ToUniversalTime();
        var currentHour = new DateTime(end.Year, end.Month, end.Day, end.Hour, 0, 0, DateTimeKind.Utc);
        var from = currentHour.AddHours(-(WindowHours - 1));
        var to = currentHour.AddHours(1);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var inWindow = db.Tasks.AsNoTracking().Where(t => t.CreatedAt >= from && t.CreatedAt < to);

        // Timestamps are stored as ISO text; the provider turns Date/Hour into strftime, so the hour buckets are exact.
        var byHourAndStatus = await inWindow
            .GroupBy(t => new { Day = t.CreatedAt.Date, t.CreatedAt.Hour, t.Status })
            .Select(g => new
            {
                g.Key.Day, g.Key.Hour, g.Key.Status, Count = g.Count(),
                ComputeCount = g.Count(t => t.ComputeDurationMs != null),
                ComputeSum = g.Sum(t => t.ComputeDurationMs ?? 0),
            })
            .ToListAsync(cancellationToken);

        var chargedByHour = await db.CreditEntries.AsNoTracking()
            .Where(e => e.Kind == CreditEntryKind.Capture && e.CreatedAt >= from && e.CreatedAt < to)
            .GroupBy(e => new { Day = e.CreatedAt.Date, e.CreatedAt.Hour })
            .Select(g => new { g.Key.Day, g.Key.Hour, Credits = g.Sum(e => e.Credits) })
            .ToListAsync(cancellationToken);

        var live = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == GenerationTaskStatus.Queued || t.Status == GenerationTaskStatus.Running)
            .GroupBy(t => t.Status).Select(g => new { Status = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);

        var hours = new List<HourlyActivity>(WindowHours);
        for (var i = 0; i < WindowHours; i++)
        {
            var start = from.AddHours(i);
            var rows = byHourAndStatus.Where(r => r.Day == start.Date && r.Hour == start.Hour).ToList();
            var computeCount = rows.Sum(r => r.ComputeCount);
            hours.Add(new HourlyActivity(
                start,
                rows.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.Sum(r => r.Count)),
                chargedByHour.Where(c => c.Day == start.Date && c.Hour == start.Hour).Sum(c => c.Credits),
                computeCount == 0 ? null : (double)rows.Sum(r => r.ComputeSum) / computeCount));
        }

        int CountOf(GenerationTaskStatus status) => byHourAndStatus.Where(r => r.Status == status).Sum(r => r.Count);
        var totalComputeCount = byHourAndStatus.Sum(r => r.ComputeCount);
        return new AdminDashboard(
            from, to, hours,
            Tasks: byHourAndStatus.Sum(r => r.Count),
            Succeeded: CountOf(GenerationTaskStatus.Succeeded),
            Failed: CountOf(GenerationTaskStatus.Failed),
            Blocked: CountOf(GenerationTaskStatus.Blocked),
            Canceled: CountOf(GenerationTaskStatus.Canceled),
            CreditsCharged: chargedByHour.Sum(c => c.Credits),
            AverageComputeMs: totalComputeCount == 0 ? null : (double)byHourAndStatus.Sum(r => r.ComputeSum) / totalComputeCount,
            Queued: live.Where(l => l.Status == GenerationTaskStatus.Queued).Sum(l => l.Count),
            Running: live.Where(l => l.Status == GenerationTaskStatus.Running).Sum(l => l.Count));
    }

    /// <summary>Queued and running tasks per model, for every model that has any.</summary>
    public async Task<IReadOnlyList<ModelQueueDepth>> QueueDepthAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == GenerationTaskStatus.Queued || t.Status == GenerationTaskStatus.Running)
            .GroupBy(t => new { t.ModelId, t.Status })
            .Select(g => new { g.Key.ModelId, g.Key.Status, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.ModelId, StringComparer.OrdinalIgnoreCase)
            .Select(g => new ModelQueueDepth(g.Key,
                g.Where(r => r.Status == GenerationTaskStatus.Queued).Sum(r => r.Count),
                g.Where(r => r.Status == GenerationTaskStatus.Running).Sum(r => r.Count)))
            .OrderBy(d => d.ModelId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>All users' tasks, newest first, with the owner's email.</summary>
    public async Task<AdminTaskPage> TasksAsync(AdminTaskQuery query, CancellationToken cancellationToken)
    {
        var page = Math.Max(1, query.Page);
        var pageSize = Math.Clamp(query.PageSize, 1, TaskQuery.MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = from t in db.Tasks.AsNoTracking()
                   join u in db.Users.AsNoTracking() on t.UserId equals u.Id
                   select new { Task = t, u.Email };
        if (!string.IsNullOrWhiteSpace(query.UserEmail))
        {
            var pattern = LikePatterns.Containing(db.Database, query.UserEmail);
            rows = rows.Where(r => EF.Functions.Like(r.Email.ToLower(), pattern, LikePatterns.Escape));
        }
        if (query.UserId is { } userId) rows = rows.Where(r => r.Task.UserId == userId);
        if (query.Status is { } status) rows = rows.Where(r => r.Task.Status == status);
        if (!string.IsNullOrWhiteSpace(query.ModelId)) rows = rows.Where(r => r.Task.ModelId == query.ModelId);
        if (query.BlockedOnly && query.FailedOnly)
            rows = rows.Where(r => r.Task.Status == GenerationTaskStatus.Blocked || r.Task.Status == GenerationTaskStatus.Failed);
        else if (query.BlockedOnly) rows = rows.Where(r => r.Task.Status == GenerationTaskStatus.Blocked);
        else if (query.FailedOnly) rows = rows.Where(r => r.Task.Status == GenerationTaskStatus.Failed);
        if (query.CreatedFrom is { } from) rows = rows.Where(r => r.Task.CreatedAt >= from);
        if (query.CreatedTo is { } to) rows = rows.Where(r => r.Task.CreatedAt < to);

        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderByDescending(r => r.Task.CreatedAt).ThenByDescending(r => r.Task.Id)
            .Skip(Paging.Offset(page, pageSize)).Take(pageSize)
            .ToListAsync(cancellationToken);
        return new AdminTaskPage(items.Select(r => new AdminTaskRow(TaskSnapshot.Of(r.Task), r.Email)).ToList(), total);
    }

    /// <summary>Every ledger entry that belongs to a task (its reservation, then its capture or release), oldest first.</summary>
    public async Task<IReadOnlyList<CreditEntry>> TaskCreditEntriesAsync(Guid taskId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.CreditEntries.AsNoTracking().Where(e => e.TaskId == taskId).OrderBy(e => e.Id).ToListAsync(cancellationToken);
    }

    /// <summary>Every run of a task (<see cref="TaskAttempt"/>), first first: who ran it, when, and how it ended.</summary>
    public async Task<IReadOnlyList<TaskAttempt>> TaskAttemptsAsync(Guid taskId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.TaskAttempts.AsNoTracking().Where(a => a.TaskId == taskId).OrderBy(a => a.Id).ToListAsync(cancellationToken);
    }

    /// <summary>Moderation decisions, newest first, with the user's email.</summary>
    public async Task<ModerationLogPage> ModerationAsync(ModerationLogQuery query, CancellationToken cancellationToken)
    {
        var page = Math.Max(1, query.Page);
        var pageSize = Math.Clamp(query.PageSize, 1, 100);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = from d in db.Set<ModerationDecisionRecord>().AsNoTracking().InReviewState(query.Review)
                   join u in db.Users.AsNoTracking() on d.UserId equals u.Id into owners
                   from u in owners.DefaultIfEmpty()
                   select new { Decision = d, Email = u == null ? "" : u.Email };
        if (query.BlockedOnly) rows = rows.Where(r => !r.Decision.Allowed);
        if (!string.IsNullOrWhiteSpace(query.Subject)) rows = rows.Where(r => r.Decision.Subject == query.Subject);
        if (!string.IsNullOrWhiteSpace(query.Category))
        {
            // Categories is a comma-separated list: match one whole entry.
            var category = "," + query.Category.Trim() + ",";
            rows = rows.Where(r => ("," + r.Decision.Categories + ",").Contains(category));
        }
        if (!string.IsNullOrWhiteSpace(query.UserEmail))
        {
            var pattern = LikePatterns.Containing(db.Database, query.UserEmail);
            rows = rows.Where(r => EF.Functions.Like(r.Email.ToLower(), pattern, LikePatterns.Escape));
        }
        var total = await rows.CountAsync(cancellationToken);
        var items = await rows.OrderByDescending(r => r.Decision.Id).Skip(Paging.Offset(page, pageSize)).Take(pageSize).ToListAsync(cancellationToken);
        return new ModerationLogPage(items.Select(r => new ModerationLogRow(r.Decision, r.Email)).ToList(), total);
    }
}
