using System.Text.Json;
using BananaLab.Core.Cluster;
using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BananaLab.Core.Sessions;

/// <summary>Where session keys live: the database on a single node, Redis when the cluster has one.</summary>
public interface IClientSessionStore
{
    Task AddAsync(ClientSession session, CancellationToken cancellationToken);

    /// <summary>
    /// The session with this key hash if it has not expired by <paramref name="now"/>, its user is enabled and
    /// the API key it was made from is not revoked.
    /// </summary>
    Task<ClientSession?> FindLiveAsync(string keyHash, DateTime now, CancellationToken cancellationToken);
}

internal static class SessionOrigins
{
    /// <summary>Whether the session's account is enabled and the key it came from (if any) is not revoked: read from the shared database, so every node agrees at once.</summary>
    public static Task<bool> StillAllowedAsync(BananaLabDbContext db, ClientSession session, CancellationToken cancellationToken) =>
        db.Users.AnyAsync(u => u.Id == session.UserId && !u.Disabled
            && (session.ApiKeyId == null || db.ApiKeys.Any(k => k.Id == session.ApiKeyId && k.UserId == u.Id && k.RevokedAt == null)),
            cancellationToken);
}

/// <summary>Sessions in the <see cref="ClientSession"/> table.</summary>
public sealed class DatabaseClientSessionStore(IDbContextFactory<BananaLabDbContext> dbFactory) : IClientSessionStore
{
    public async Task AddAsync(ClientSession session, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Add(session);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<ClientSession?> FindLiveAsync(string keyHash, DateTime now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var session = await db.Set<ClientSession>().AsNoTracking()
            .SingleOrDefaultAsync(s => s.KeyHash == keyHash && s.ExpiresAt > now, cancellationToken);
        return session is not null && await SessionOrigins.StillAllowedAsync(db, session, cancellationToken) ? session : null;
    }
}

/// <summary>
/// Sessions as JSON under <c>{prefix}:session:{keyHash}</c>, expiring with the session, so every node
/// accepts a key another node issued. The account and the API key are still read from the database, so
/// disabling the account or revoking the key ends its sessions at once on every node; a revoked key's
/// session is deleted when next presented, as Redis keeps no index by key (re-enabling an
/// account revives its unexpired sessions, as with the table; a revoked key never comes back).
/// </summary>
public sealed class RedisClientSessionStore(
    IConnectionMultiplexer redis,
    IOptions<ClusterOptions> cluster,
    IDbContextFactory<BananaLabDbContext> dbFactory) : IClientSessionStore
{
    public async Task AddAsync(ClientSession session, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(session);
        await redis.GetDatabase().StringSetAsync(Key(session.KeyHash), json, session.ExpiresAt - session.CreatedAt);
    }

    public async Task<ClientSession?> FindLiveAsync(string keyHash, DateTime now, CancellationToken cancellationToken)
    {
        var json = await redis.GetDatabase().StringGetAsync(Key(keyHash));
        if (json.IsNullOrEmpty) return null;
        var session = JsonSerializer.Deserialize<ClientSession>(json.ToString());
        if (session is null || session.ExpiresAt <= now) return null;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await SessionOrigins.StillAllowedAsync(db, session, cancellationToken)) return session;
        if (session.ApiKeyId is { } keyId && await db.ApiKeys.AnyAsync(k => k.Id == keyId && k.RevokedAt != null, cancellationToken))
            await redis.GetDatabase().KeyDeleteAsync(Key(keyHash));
        return null;
    }

    private RedisKey Key(string keyHash) => cluster.Value.RedisKey("session:" + keyHash);
}
