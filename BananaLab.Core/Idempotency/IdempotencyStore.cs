using System.Security.Cryptography;
using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Idempotency;

/// <summary>The first response to a request made with an <c>Idempotency-Key</c>, kept for replay.</summary>
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
}

public sealed class IdempotencyStore(IDbContextFactory<BananaLabDbContext> dbFactory, IDatabaseProvider database, TimeProvider clock)
{
    public const int MaxKeyLength = 200;

    public static string HashRequest(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    public async Task<IdempotencyClaim> ClaimAsync(Guid userId, string key, string scope, string requestHash,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var record = new IdempotencyRecord
        {
            UserId = userId, Key = key, Scope = scope, RequestHash = requestHash, CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return new IdempotencyClaim.Fresh(record.Id);
        }
        catch (DbUpdateException e) when (database.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
        }
        var existing = await db.Set<IdempotencyRecord>().AsNoTracking()
            .SingleAsync(r => r.UserId == userId && r.Key == key, cancellationToken);
        if (existing.Scope != scope || existing.RequestHash != requestHash) return new IdempotencyClaim.Mismatch();
        return existing.ResponseStatus is { } status
            ? new IdempotencyClaim.Replay(status, existing.ResponseBody ?? "")
            : new IdempotencyClaim.InProgress();
    }

    public async Task CompleteAsync(long recordId, int status, string body, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.ResponseStatus, status).SetProperty(r => r.ResponseBody, body), cancellationToken);
    }

    /// <summary>Forgets a claim whose request never produced a response (it threw), so a retry can run.</summary>
    public async Task AbandonAsync(long recordId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<IdempotencyRecord>().Where(r => r.Id == recordId && r.ResponseStatus == null).ExecuteDeleteAsync(cancellationToken);
    }
}
