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

    public async Task<GenerationTask?> ClaimNextTaskAsync(BananaLabDbContext db, string workerName, DateTime now,
        DateTime leaseUntil, IReadOnlyList<string>? modelIds, CancellationToken cancellationToken)
    {
        // One statement under SQLite's single write lock is atomic: no two workers get the same task.
        var anyModel = modelIds is null;
        // Any model (the single-machine case) is every claim of a default install: no JSON to build for it.
        var models = anyModel ? "[]" : JsonSerializer.Serialize(modelIds);
        var claimed = await db.Tasks.FromSql($"""
            UPDATE "Tasks"
            SET "Status" = 1, "WorkerName" = {workerName}, "LeaseExpiresAt" = {leaseUntil},
                "Attempts" = "Attempts" + 1, "StartedAt" = COALESCE("StartedAt", {now})
            WHERE "Id" = (
                SELECT "Id" FROM "Tasks"
                WHERE "Status" = 0 AND ("NotBefore" IS NULL OR "NotBefore" <= {now})
                  AND ({anyModel} OR "ModelId" IN (SELECT "value" FROM json_each({models})))
                ORDER BY "CreatedAt", "Id"
                LIMIT 1)
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
        return claimed.Count == 0 ? null : claimed[0];
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
