using System.Security.Cryptography;
using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Idempotency;

/// <summary>
/// The first response to a request made with an <c>Idempotency-Key</c>, kept for replay; or (keys starting
/// <see cref="IdempotencyStore.RecentKeyPrefix"/>) the task of a recent synchronous call, in <see cref="ResponseBody"/>.
/// </summary>
public sealed class IdempotencyRecord
{
    public long Id { get; set; }
    public Guid UserId { get; set; }
    public required string Key { get; set; }
    /// <summary>What the key was first used for (endpoint), so one key cannot be replayed elsewhere.</summary>
    public required string Scope { get; set; }
    public required string RequestHash { get; set; }
    public int? ResponseStatus { get; set; }
    public string? ResponseBody { get; set; }
    public DateTime CreatedAt { get; set; }
}

public abstract record IdempotencyClaim
{
    /// <summary>First use of the key: run the request, then <see cref="IdempotencyStore.CompleteAsync"/>.</summary>
    public sealed record Fresh(long RecordId) : IdempotencyClaim;
    public sealed record Replay(int Status, string Body) : IdempotencyClaim;
    public sealed record Mismatch : IdempotencyClaim;
    public sealed record InProgress : IdempotencyClaim;
    /// <summary>
    /// The first request committed its task but stored no response (it failed or its process died after the commit):
    /// answer from the task, then <see cref="IdempotencyStore.CompleteAsync"/>.
    /// </summary>
    public sealed record Committed(long RecordId, Guid TaskId) : IdempotencyClaim;
}

/// <summary>
/// A synchronous call (submit, then wait up to <paramref name="Wait"/> in the same request) as the caller sent it:
/// identical calls are the same caller, dialect and body hash. A retry of one that ended without a result, arriving
/// within <see cref="Window"/>, attaches to the first task.
/// </summary>
/// <param name="MarkedRetry">The client says this is a retry (the Stainless OpenAI SDKs send <c>X-Stainless-Retry-Count</c>).</param>
public sealed record SynchronousSubmission(string Dialect, string BodyHash, bool MarkedRetry, TimeSpan Wait)
{
    /// <summary>How long after the wait a retry still attaches: SDKs back off for seconds, not minutes.</summary>
    public static readonly TimeSpan RetryGrace = TimeSpan.FromSeconds(60);

    public TimeSpan Window => Wait + RetryGrace;
}

public abstract record RecentSubmissionClaim
{
    /// <summary>No identical call within the window: submit, then <see cref="IdempotencyStore.RecordTaskAsync"/>.</summary>
    public sealed record Fresh(long RecordId) : RecentSubmissionClaim;
    /// <summary>
    /// An identical call made this task (the batch's id, for a call that submits a batch); <paramref name="Delivered"/>:
    /// a call of it answered with the finished result (<see cref="IdempotencyStore.MarkDeliveredAsync"/>).
    /// </summary>
    public sealed record Existing(long RecordId, Guid TaskId, bool Delivered) : RecentSubmissionClaim;
    /// <summary>An identical call is being submitted right now.</summary>
    public sealed record Submitting : RecentSubmissionClaim;
}

public sealed class IdempotencyStore(IDbContextFactory<BananaLabDbContext> dbFactory, TimeProvider clock)
{
    public const int MaxKeyLength = 200;

    public static string HashRequest(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    public async Task<IdempotencyClaim> ClaimAsync(Guid userId, string key, string scope, string requestHash,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await TryInsertAsync(db, userId, key, scope, requestHash, cancellationToken) is { } recordId)
            return new IdempotencyClaim.Fresh(recordId);
        var existing = await db.Set<IdempotencyRecord>().AsNoTracking()
            .SingleOrDefaultAsync(r => r.UserId == userId && r.Key == key, cancellationToken);
        // Abandoned between our insert and this read: claim again.
        if (existing is null) return await ClaimAsync(userId, key, scope, requestHash, cancellationToken);
        if (existing.Scope != scope || existing.RequestHash != requestHash) return new IdempotencyClaim.Mismatch();
        if (existing.ResponseStatus is { } status) return new IdempotencyClaim.Replay(status, existing.ResponseBody ?? "");
        return existing.ResponseBody is { } linked && linked.StartsWith(CommittedTaskPrefix, StringComparison.Ordinal)
            && Guid.TryParse(linked.AsSpan(CommittedTaskPrefix.Length), out var taskId)
            ? new IdempotencyClaim.Committed(existing.Id, taskId)
            : new IdempotencyClaim.InProgress();
    }

    /// <summary>ResponseBody of a claim whose task is committed while its response is not stored yet.</summary>
    private const string CommittedTaskPrefix = "task:";

    /// <summary>
    /// Links a claim to the task its request creates, in the caller's transaction (the one that inserts the task), so the
    /// key and the task commit together or not at all: a claim with a task is never abandoned, and a retry answers
    /// from that task (<see cref="IdempotencyClaim.Committed"/>).
    /// </summary>
    public static async Task LinkTaskAsync(BananaLabDbContext db, long recordId, Guid taskId, CancellationToken cancellationToken)
    {
        var linked = CommittedTaskPrefix + taskId;
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId && r.ResponseStatus == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ResponseBody, linked), cancellationToken);
    }

    /// <summary>
    /// Inserts the record unless the key is taken, in one statement: the loser of a race sees "no row", not a unique
    /// violation, so concurrent requests with one key log no database error. Null when the key was taken. Not cancellable:
    /// a client dropping the connection while the row is read back would leave a claim that nobody completes or abandons.
    /// </summary>
    private async Task<long?> TryInsertAsync(BananaLabDbContext db, Guid userId, string key, string scope, string requestHash,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var ids = await db.Database.SqlQuery<long>($"""
            INSERT INTO "IdempotencyRecord" ("UserId", "Key", "Scope", "RequestHash", "CreatedAt")
            VALUES ({userId}, {key}, {scope}, {requestHash}, {now})
            ON CONFLICT ("UserId", "Key") DO NOTHING
            RETURNING "Id" AS "Value"
            """).ToListAsync(CancellationToken.None);
        return ids.Count == 0 ? null : ids[0];
    }

    public async Task CompleteAsync(long recordId, int status, string body, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.ResponseStatus, status).SetProperty(r => r.ResponseBody, body), cancellationToken);
    }

    /// <summary>
    /// Forgets a claim whose request never produced a response (it threw), so a retry can run; unless its task was
    /// committed (<see cref="LinkTaskAsync"/>): then the retry answers from that task instead of charging another.
    /// </summary>
    public async Task AbandonAsync(long recordId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId && r.ResponseStatus == null && r.ResponseBody == null)
            .ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Key prefix of the records of recent synchronous calls (<see cref="SynchronousSubmission"/>).</summary>
    public const string RecentKeyPrefix = "sync:";
    private const string RecentScope = "sync";
    /// <summary>ResponseStatus of a synchronous call's record once its task exists (202 Accepted: the task was made).</summary>
    private const int TaskRecorded = 202;
    /// <summary>ResponseStatus once a call of it answered with the finished result (200 OK).</summary>
    private const int TaskDelivered = 200;

    /// <summary>
    /// Claims an identical synchronous call's slot. Kept in the database, not in memory, so a retry that a load balancer
    /// sends to another node still finds the first task; the unique (user, key) index makes the claim atomic.
    /// </summary>
    public async Task<RecentSubmissionClaim> ClaimRecentAsync(Guid userId, SynchronousSubmission submission,
        CancellationToken cancellationToken)
    {
        var key = $"{RecentKeyPrefix}{submission.Dialect}:{submission.BodyHash}";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await TryInsertAsync(db, userId, key, RecentScope, submission.BodyHash, cancellationToken) is { } recordId)
            {
                await ForgetExpiredRecentAsync(db, userId, submission.Window, CancellationToken.None);
                return new RecentSubmissionClaim.Fresh(recordId);
            }
            var existing = await db.Set<IdempotencyRecord>().AsNoTracking()
                .SingleOrDefaultAsync(r => r.UserId == userId && r.Key == key, cancellationToken);
            if (existing is null) continue;
            if (existing.CreatedAt >= clock.GetUtcNow().UtcDateTime - submission.Window)
                return existing.ResponseStatus is TaskRecorded or TaskDelivered && Guid.TryParse(existing.ResponseBody, out var taskId)
                    ? new RecentSubmissionClaim.Existing(existing.Id, taskId, existing.ResponseStatus == TaskDelivered)
                    : new RecentSubmissionClaim.Submitting();
            await ForgetRecentAsync(existing.Id, cancellationToken);
        }
        return new RecentSubmissionClaim.Submitting();
    }

    /// <summary>Notes the task a fresh synchronous call made; the window starts now.</summary>
    public async Task RecordTaskAsync(long recordId, Guid taskId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.ResponseStatus, TaskRecorded).SetProperty(r => r.ResponseBody, taskId.ToString())
            .SetProperty(r => r.CreatedAt, now), cancellationToken);
    }

    /// <summary>
    /// A call of the task answered with its finished result: an identical call after this is a new request, unless the
    /// client marks it as a retry. Until then (the wait ended first, the client dropped, the process died) a retry
    /// attaches to the task, since nobody has received its images.
    /// </summary>
    public async Task MarkDeliveredAsync(long recordId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId && r.ResponseStatus == TaskRecorded)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ResponseStatus, TaskDelivered), cancellationToken);
    }

    /// <summary>A retry attached to the task: the window restarts, so the SDK's next retry attaches too.</summary>
    public async Task RefreshRecentAsync(long recordId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId).ExecuteUpdateAsync(s => s.SetProperty(r => r.CreatedAt, now),
            cancellationToken);
    }

    public async Task ForgetRecentAsync(long recordId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Keeps the table small: a caller's old synchronous-call records go when it makes a new one.</summary>
    private async Task ForgetExpiredRecentAsync(BananaLabDbContext db, Guid userId, TimeSpan window, CancellationToken cancellationToken)
    {
        // Windows differ by dialect: an hour is past every one of them.
        var cutoff = clock.GetUtcNow().UtcDateTime - (window > TimeSpan.FromHours(1) ? window : TimeSpan.FromHours(1));
        await db.Set<IdempotencyRecord>()
            .Where(r => r.UserId == userId && r.Scope == RecentScope && r.CreatedAt < cutoff)
            .ExecuteDeleteAsync(cancellationToken);
    }
}
