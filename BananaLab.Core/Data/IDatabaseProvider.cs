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

    /// <summary>Which database this process uses, for people: "SQLite file /srv/data/bananalab.db", "PostgreSQL database bananalab on db1:5432".</summary>
    string Description { get; }

    /// <summary>
    /// Creates the database when it does not exist and applies every pending migration, once at start.
    /// Safe when several nodes of one cluster start at the same instant: one migrates, the others wait
    /// for it and then find nothing left to do.
    /// </summary>
    Task MigrateAsync(BananaLabDbContext db, CancellationToken cancellationToken);

    /// <summary>
    /// Waits for <paramref name="which"/> and holds it until the result is disposed. One process of the
    /// whole cluster holds it at a time: on PostgreSQL a session-level advisory lock on a connection of its
    /// own (a process that dies frees it with its session); on SQLite, which serves one process, a lock
    /// within this process.
    /// </summary>
    Task<IAsyncDisposable> LockAsync(ClusterLock which, CancellationToken cancellationToken);

    /// <summary>
    /// In one atomic statement, moves the oldest claimable queued task to running under a lease for this worker, together
    /// with the queued tasks that may share its run under <paramref name="batch"/> (<see cref="BatchClaim"/>), and returns
    /// them as claimed, oldest first; empty when nothing is claimable. With <paramref name="modelIds"/>, only tasks for
    /// those models are claimable (a worker serves the models it has); null means any model.
    /// </summary>
    Task<IReadOnlyList<GenerationTask>> ClaimNextTasksAsync(BananaLabDbContext db, string workerName, DateTime now, DateTime leaseUntil,
        IReadOnlyList<string>? modelIds, BatchClaim batch, CancellationToken cancellationToken);

    bool IsUniqueViolation(DbUpdateException exception);
}
