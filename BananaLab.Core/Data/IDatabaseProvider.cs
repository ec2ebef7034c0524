using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Data;

/// <summary>
/// Everything that differs between database engines lives behind this interface, so the task
/// engine above it stays the same (SQLite today; a PostgreSQL provider with FOR UPDATE SKIP LOCKED can drop in).
/// </summary>
public interface IDatabaseProvider
{
    void Configure(DbContextOptionsBuilder options);

    /// <summary>Prepares the database file or server once at start, before migrations run.</summary>
    Task PrepareAsync(BananaLabDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically moves the oldest claimable queued task to running under a lease for this worker,
    /// and returns its id, or null when nothing is claimable.
    /// </summary>
    Task<Guid?> ClaimNextTaskAsync(BananaLabDbContext db, string workerName, DateTime now, DateTime leaseUntil,
        CancellationToken cancellationToken);

    bool IsUniqueViolation(DbUpdateException exception);
}
