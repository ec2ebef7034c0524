using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Data;

/// <summary>
/// Everything that differs between database engines lives behind this interface, so the task
/// engine above it stays the same: <see cref="SqliteDatabaseProvider"/> and <see cref="Postgres.PostgresDatabaseProvider"/>.
/// </summary>
public interface IDatabaseProvider
{
    void Configure(DbContextOptionsBuilder options);

    /// <summary>Prepares the database file or server once at start, before migrations run.</summary>
    Task PrepareAsync(BananaLabDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically moves the oldest claimable queued task to running under a lease for this worker,
    /// and returns it as claimed (in the same statement), or null when nothing is claimable. With <paramref name="modelIds"/>, only tasks
    /// for those models are claimable (a worker serves the models it has); null means any model.
    /// </summary>
    Task<GenerationTask?> ClaimNextTaskAsync(BananaLabDbContext db, string workerName, DateTime now, DateTime leaseUntil,
        IReadOnlyList<string>? modelIds, CancellationToken cancellationToken);

    bool IsUniqueViolation(DbUpdateException exception);
}
