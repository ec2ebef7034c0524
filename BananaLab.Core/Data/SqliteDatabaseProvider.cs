using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using BananaLab.Core.Storage;
using Microsoft.Data.Sqlite;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Data;

/// <summary>SQLite in WAL mode with a busy timeout: every SQLite specific of the product is in this file.</summary>
public sealed class SqliteDatabaseProvider(IOptions<StorageOptions> storage) : IDatabaseProvider
{
    public const int BusyTimeoutMs = 10_000;

    public string DatabasePath => Path.Combine(storage.Value.FullDataDirectory, "bananalab.db");

    public string ConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = DatabasePath,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        ForeignKeys = true,
        DefaultTimeout = BusyTimeoutMs / 1000,
    }.ToString();

    public string Description => $"SQLite file {DatabasePath}";

    public void Configure(DbContextOptionsBuilder options) =>
        options.UseSqlite(ConnectionString).AddInterceptors(PragmaInterceptor.Instance);

    /// <summary>
    /// EF Core serializes processes migrating one SQLite file with its <c>__EFMigrationsLock</c> table,
    /// held until the whole migration run ends.
    /// </summary>
    public async Task MigrateAsync(BananaLabDbContext db, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(storage.Value.FullDataDirectory);
        // WAL persists in the file: readers never block the writer and commits stay cheap.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        await db.Database.MigrateAsync(cancellationToken);
    }

    private readonly ConcurrentDictionary<ClusterLock, SemaphoreSlim> _locks = new();

    public async Task<IAsyncDisposable> LockAsync(ClusterLock which, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(which, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release();
            return ValueTask.CompletedTask;
        }
    }

    public async Task<IReadOnlyList<GenerationTask>> ClaimNextTasksAsync(BananaLabDbContext db, string workerName, DateTime now,
        DateTime leaseUntil, IReadOnlyList<string>? modelIds, BatchClaim batch, CancellationToken cancellationToken)
    {
        // One statement under SQLite's single write lock is atomic: no two workers get the same task.
        var anyModel = modelIds is null;
        // Any model (the single-machine case) is every claim of a default install: no JSON to build for it.
        var models = anyModel ? "[]" : JsonSerializer.Serialize(modelIds);
        var batchable = batch.MaxImages > 1 && batch.BatchableModels.Count > 0 ? JsonSerializer.Serialize(batch.BatchableModels) : "[]";
        // "head" is the oldest claimable task; "joiners" are the tasks that may share its run (BatchClaim), oldest first,
        // each with the images taken up to and including it; those within the limit are claimed with the head.
        var claimed = await db.Tasks.FromSql($"""
            WITH "head" AS (
                SELECT "Id", "ModelId", "Steps", "Guidance", "ImageCount", "ReferenceImagePath" FROM "Tasks"
                WHERE "Status" = 0 AND ("NotBefore" IS NULL OR "NotBefore" <= {now})
                  AND ({anyModel} OR "ModelId" IN (SELECT "value" FROM json_each({models})))
                ORDER BY "CreatedAt", "Id"
                LIMIT 1),
            "joiners" AS (
                SELECT "Id", (SELECT "ImageCount" FROM "head") + SUM("ImageCount") OVER (ORDER BY "CreatedAt", "Id") AS "Images"
                FROM (
                    SELECT t."Id", t."ImageCount", t."CreatedAt" FROM "Tasks" AS t, "head" AS h
                    WHERE t."Status" = 0 AND t."Id" <> h."Id" AND (t."NotBefore" IS NULL OR t."NotBefore" <= {now})
                      AND h."ModelId" IN (SELECT "value" FROM json_each({batchable}))
                      AND t."ModelId" = h."ModelId" AND t."Steps" = h."Steps" AND (t."Guidance" > 1.0) = (h."Guidance" > 1.0)
                      AND t."ReferenceImagePath" IS NULL AND h."ReferenceImagePath" IS NULL
                    ORDER BY t."CreatedAt", t."Id"
                    LIMIT {batch.MaxImages}))
            UPDATE "Tasks"
            SET "Status" = 1, "WorkerName" = {workerName}, "LeaseExpiresAt" = {leaseUntil},
                "Attempts" = "Attempts" + 1, "StartedAt" = COALESCE("StartedAt", {now})
            WHERE "Id" IN (SELECT "Id" FROM "head")
               OR "Id" IN (SELECT "Id" FROM "joiners" WHERE "Images" <= {batch.MaxImages})
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
        return claimed.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).ToList();
    }

    public bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    /// <summary>
    /// Per-connection settings, applied once per physical connection (pooled connections keep them);
    /// journal mode is set once per file in <see cref="MigrateAsync"/>.
    /// </summary>
    private sealed class PragmaInterceptor : DbConnectionInterceptor
    {
        public static readonly PragmaInterceptor Instance = new();
        private const string Pragmas = "PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;";
        private static readonly ConditionalWeakTable<object, object> Initialized = new();

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            if (!NeedsPragmas(connection)) return;
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }

        public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData,
            CancellationToken cancellationToken = default)
        {
            if (!NeedsPragmas(connection)) return;
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        private static bool NeedsPragmas(DbConnection connection) =>
            connection is not SqliteConnection { Handle: { } handle } || Initialized.TryAdd(handle, Instance);
    }
}
