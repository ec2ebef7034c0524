using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BananaLab.Core.Data.Postgres;

/// <summary>
/// PostgreSQL for several web nodes and worker processes on one database: every PostgreSQL specific
/// of the product is in this folder. Workers claim with <c>FOR UPDATE SKIP LOCKED</c>, so concurrent
/// claims never wait on each other, and a trigger (see the migrations) sends <c>NOTIFY</c> whenever a
/// task becomes claimable, which <see cref="PostgresQueueListener"/> turns into a wake-up.
/// </summary>
public sealed class PostgresDatabaseProvider(DatabaseOptions options, ILogger<PostgresDatabaseProvider> logger) : IDatabaseProvider
{
    /// <summary>The channel the <c>Tasks</c> trigger notifies, with the task's model id as payload.</summary>
    public const string QueueChannel = "bananalab_tasks";

    public string ConnectionString { get; } = WithSessionDefaults(options.ConnectionString!);

    public string Description
    {
        get
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
        }
    }

    public void Configure(DbContextOptionsBuilder options) => Configure(options, ConnectionString);

    internal static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString);

    /// <summary>See <see cref="PostgresMigrationRun"/>: one node migrates while the others wait on an advisory lock.</summary>
    public Task MigrateAsync(BananaLabDbContext db, CancellationToken cancellationToken) =>
        PostgresMigrationRun.RunAsync(db, ConnectionString, logger, cancellationToken);

    public async Task<IAsyncDisposable> LockAsync(ClusterLock which, CancellationToken cancellationToken) =>
        await PostgresAdvisoryLock.AcquireAsync(ConnectionString, which, logger, cancellationToken);

    public async Task<IReadOnlyList<GenerationTask>> ClaimNextTasksAsync(BananaLabDbContext db, string workerName, DateTime now,
        DateTime leaseUntil, IReadOnlyList<string>? modelIds, BatchClaim batch, CancellationToken cancellationToken)
    {
        // One round trip that claims and returns the rows. The statement is a constant (EF Core turns
        // its {n} into parameters), so that tools/bench-scaleout can also time exactly this statement bare.
        var batchable = batch.MaxImages > 1 ? batch.BatchableModels as string[] ?? batch.BatchableModels.ToArray() : [];
        var claimed = await db.Tasks.FromSqlRaw(ClaimSql, workerName, leaseUntil, now, modelIds is null,
                modelIds as string[] ?? modelIds?.ToArray() ?? [], batch.MaxImages, batchable)
            .AsNoTracking().ToListAsync(cancellationToken);
        return claimed.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).ToList();
    }

    /// <summary>
    /// The claim: {0} worker name, {1} lease end, {2} now, {3} any model, {4} the models served, {5} the most images one
    /// claim takes, {6} the models whose tasks may share a run (<see cref="BatchClaim"/>); returns the claimed tasks' rows
    /// (the id first), or no row. "head" is the oldest claimable task, "joiners" the younger ones that may share its run,
    /// oldest first, each with the images taken up to and including it. SKIP LOCKED: a row another worker is claiming
    /// right now is passed over instead of waited for, so N workers claim N different tasks in parallel. The outer
    /// "Status" = 0 re-check makes the update a no-op for a row that changed between the lock and the update. The
    /// subqueries read the head of the partial index of queued tasks (IX_Tasks_Claimable).
    /// </summary>
    public const string ClaimSql = """
        WITH "head" AS (
            SELECT "Id", "ModelId", "Steps", "Guidance", "ImageCount", "ReferenceImagePath" FROM "Tasks"
            WHERE "Status" = 0 AND ("NotBefore" IS NULL OR "NotBefore" <= {2})
              AND ({3} OR "ModelId" = ANY({4}))
            ORDER BY "CreatedAt", "Id"
            LIMIT 1
            FOR UPDATE SKIP LOCKED),
        "candidates" AS (
            SELECT t."Id", t."ImageCount", t."CreatedAt" FROM "Tasks" AS t, "head" AS h
            WHERE t."Status" = 0 AND t."Id" <> h."Id" AND (t."NotBefore" IS NULL OR t."NotBefore" <= {2})
              AND h."ModelId" = ANY({6})
              AND t."ModelId" = h."ModelId" AND t."Steps" = h."Steps" AND (t."Guidance" > 1.0) = (h."Guidance" > 1.0)
              AND t."ReferenceImagePath" IS NULL AND h."ReferenceImagePath" IS NULL
            ORDER BY t."CreatedAt", t."Id"
            LIMIT {5}
            FOR UPDATE OF t SKIP LOCKED),
        "joiners" AS (
            SELECT "Id", (SELECT "ImageCount" FROM "head") + SUM("ImageCount") OVER (ORDER BY "CreatedAt", "Id") AS "Images"
            FROM "candidates")
        UPDATE "Tasks"
        SET "Status" = 1, "WorkerName" = {0}, "LeaseExpiresAt" = {1},
            "Attempts" = "Attempts" + 1, "StartedAt" = COALESCE("StartedAt", {2})
        WHERE "Status" = 0 AND ("Id" IN (SELECT "Id" FROM "head")
            OR "Id" IN (SELECT "Id" FROM "joiners" WHERE "Images" <= {5}))
        RETURNING *
        """;

    public bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <summary>
    /// Every timestamp is UTC: the session time zone is pinned to UTC so that grouping by day and hour
    /// (the dashboard, daily spend) buckets in UTC whatever the server's own zone is. Statements the
    /// app runs over and over (the claim, the heartbeat) are prepared once per connection unless the
    /// connection string says otherwise.
    /// </summary>
    private static string WithSessionDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Timezone ??= "UTC";
        builder.ApplicationName ??= "BananaLab";
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 64;
        // The app keeps no session state on pooled connections (no SET, temp tables or session locks
        // outside EF's migration lock, which it releases), so a connection coming back from the pool
        // needs no reset query in front of its next command: a third of a claim's time on a 2-core box.
        builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }
}
