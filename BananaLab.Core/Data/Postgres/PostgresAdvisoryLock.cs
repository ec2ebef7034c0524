using Microsoft.Extensions.Logging;
using Npgsql;

namespace BananaLab.Core.Data.Postgres;

/// <summary>
/// A session-level PostgreSQL advisory lock (<c>pg_advisory_lock</c>) held on a connection of its own,
/// outside the pool, so that no pooled command can release it early and a process that dies frees it
/// with its session. Disposing unlocks and closes the connection.
/// </summary>
internal sealed class PostgresAdvisoryLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _session;
    private readonly ClusterLock _which;

    private PostgresAdvisoryLock(NpgsqlConnection session, ClusterLock which)
    {
        _session = session;
        _which = which;
    }

    /// <summary>Waits until no other session holds <paramref name="which"/>, logging once when it has to wait.</summary>
    public static async Task<PostgresAdvisoryLock> AcquireAsync(string connectionString, ClusterLock which, ILogger logger,
        CancellationToken cancellationToken)
    {
        var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            await session.OpenAsync(cancellationToken);
            if (!await ExecuteAsync<bool>(session, "SELECT pg_try_advisory_lock(@key)", which, cancellationToken))
            {
                logger.LogInformation("Another node holds the {Lock} lock; waiting for it", which);
                await ExecuteAsync<object>(session, "SELECT pg_advisory_lock(@key)", which, cancellationToken);
            }
            return new PostgresAdvisoryLock(session, which);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync<bool>(_session, "SELECT pg_advisory_unlock(@key)", _which, CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // The session is gone, and the lock with it.
        }
        await _session.DisposeAsync();
    }

    private static async Task<T> ExecuteAsync<T>(NpgsqlConnection session, string sql, ClusterLock which, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, session);
        command.Parameters.AddWithValue("key", (long)which);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
