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

    /// <summary>The session with this key hash if it has not expired by <paramref name="now"/> and its user is enabled.</summary>
    Task<ClientSession?> FindLiveAsync(string keyHash, DateTime now, CancellationToken cancellationToken);
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
        return await db.Set<ClientSession>().AsNoTracking()
            .Where(s => s.KeyHash == keyHash && s.ExpiresAt > now)
            .Join(db.Users.Where(u => !u.Disabled), s => s.UserId, u => u.Id, (s, _) => s)
            .SingleOrDefaultAsync(cancellationToken);
    }
}

/// <summary>
/// Sessions as JSON under <c>{prefix}:session:{keyHash}</c>, expiring with the session, so every node
/// accepts a key another node issued. The account is still read from the database, so disabling it ends
/// its sessions at once (and re-enabling it revives the unexpired ones, as with the table).
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
        return await db.Users.AnyAsync(u => u.Id == session.UserId && !u.Disabled, cancellationToken) ? session : null;
    }

    private RedisKey Key(string keyHash) => cluster.Value.RedisKey("session:" + keyHash);
}
