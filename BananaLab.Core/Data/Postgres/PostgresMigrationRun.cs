using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BananaLab.Core.Data.Postgres;

/// <summary>
/// Brings a PostgreSQL database up to date when several nodes start on it at the same instant.
/// <para>
/// EF Core's own migration lock is not enough. Npgsql takes it as <c>LOCK TABLE "__EFMigrationsHistory"</c>
/// inside each migration's transaction, so it is released at every migration's COMMIT. Meanwhile each node
/// reads the list of pending migrations once, before the first one. Two nodes therefore take turns: node 1
/// applies migration 1, node 2 takes the lock and applies migration 2, then node 1 takes it back and
/// replays migration 2 from its stale list. It fails with 42704 <c>index "IX_Tasks_Status_CreatedAt" does
/// not exist</c>, or 42701 for a column added twice (PostgreSQL's statement log of the race is in the
/// issue's closing note).
/// </para>
/// <para>
/// So the whole run holds the <see cref="ClusterLock.Migrations"/> advisory lock
/// (<see cref="PostgresAdvisoryLock"/>). A node that loses the race waits on the lock. Once it has the
/// lock, it reads the history, finds every migration applied and starts. If the process dies, PostgreSQL ends its session and
/// frees the lock.
/// </para>
/// </summary>
internal static class PostgresMigrationRun
{
    private static readonly TimeSpan ReachableWithin = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Creates the database if needed, then migrates under the advisory lock. A server that is not
    /// reachable yet is retried with backoff for up to a minute (nodes often start before the database
    /// does); every other error ends the start with the server's own message.
    /// </summary>
    public static async Task RunAsync(BananaLabDbContext db, string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ReachableWithin;
        for (var delay = TimeSpan.FromMilliseconds(500); ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                await CreateDatabaseIfMissingAsync(connectionString, logger, cancellationToken);
                await MigrateUnderLockAsync(db, connectionString, logger, cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && DateTime.UtcNow + delay < deadline)
            {
                logger.LogWarning("PostgreSQL is not reachable yet ({Message}); trying again in {Delay:0.#} s", e.Message, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    private static async Task MigrateUnderLockAsync(BananaLabDbContext db, string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        await using var held = await PostgresAdvisoryLock.AcquireAsync(connectionString, ClusterLock.Migrations, logger, cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
    }

    /// <summary>
    /// EF Core would create a missing database too, but nodes starting together race on it
    /// (23505 on <c>pg_database_datname_index</c>). Here a node that loses that race uses the winner's database.
    /// </summary>
    private static async Task CreateDatabaseIfMissingAsync(string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        try
        {
            await using var probe = new NpgsqlConnection(target.ConnectionString);
            await probe.OpenAsync(cancellationToken);
            return;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // The database does not exist yet.
        }
        var name = target.Database ?? throw new InvalidOperationException("ConnectionStrings:BananaLab names no Database.");
        await using var maintenance = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres" }.ConnectionString);
        await maintenance.OpenAsync(cancellationToken);
        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"")}\"", maintenance);
            await create.ExecuteNonQueryAsync(cancellationToken);
            logger.LogInformation("Created the database {Database}", name);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            logger.LogInformation("Another node created the database {Database} at the same time; using it", name);
        }
    }
}
