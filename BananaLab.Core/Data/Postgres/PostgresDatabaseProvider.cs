using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace BananaLab.Core.Data.Postgres;

/// <summary>
/// PostgreSQL for several web nodes and worker processes on one database: every PostgreSQL specific
/// of the product is in this folder. Workers claim with <c>FOR UPDATE SKIP LOCKED</c>, so concurrent
/// claims never wait on each other, and a trigger (see the migrations) sends <c>NOTIFY</c> whenever a
/// task becomes claimable, which <see cref="PostgresQueueListener"/> turns into a wake-up.
/// </summary>
public sealed class PostgresDatabaseProvider(DatabaseOptions options) : IDatabaseProvider
{
    /// <summary>The channel the <c>Tasks</c> trigger notifies, with the task's model id as payload.</summary>
    public const string QueueChannel = "bananalab_tasks";

    public string ConnectionString { get; } = WithSessionDefaults(options.ConnectionString!);

    public void Configure(DbContextOptionsBuilder options) => Configure(options, ConnectionString);

    internal static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString);

    /// <summary>The database itself is created by the first migration run when it does not exist.</summary>
    public Task PrepareAsync(BananaLabDbContext db, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<GenerationTask?> ClaimNextTaskAsync(BananaLabDbContext db, string workerName, DateTime now, DateTime leaseUntil,
        IReadOnlyList<string>? modelIds, CancellationToken cancellationToken)
    {
        // SKIP LOCKED: a row another worker is claiming right now is passed over instead of waited for,
        // so N workers claim N different tasks in parallel. The outer "Status" = 0 re-check makes the
        // update a no-op if the row changed between the lock and the update.
        var anyModel = modelIds is null;
        var models = modelIds?.ToArray() ?? [];
        var claimed = await db.Tasks.FromSql($"""
            UPDATE "Tasks"
            SET "Status" = 1, "WorkerName" = {workerName}, "LeaseExpiresAt" = {leaseUntil},
                "Attempts" = "Attempts" + 1, "StartedAt" = COALESCE("StartedAt", {now})
            WHERE "Status" = 0 AND "Id" = (
                SELECT "Id" FROM "Tasks"
                WHERE "Status" = 0 AND ("NotBefore" IS NULL OR "NotBefore" <= {now})
                  AND ({anyModel} OR "ModelId" = ANY({models}))
                ORDER BY "CreatedAt", "Id"
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
        return claimed.Count == 0 ? null : claimed[0];
    }

    public bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <summary>
    /// Every timestamp is UTC: the session time zone is pinned to UTC so that grouping by day and hour
    /// (the dashboard, daily spend) buckets in UTC whatever the server's own zone is.
    /// </summary>
    private static string WithSessionDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Timezone ??= "UTC";
        builder.ApplicationName ??= "BananaLab";
        return builder.ConnectionString;
    }
}
