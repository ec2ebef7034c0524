using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using BananaLab.Core.Cluster;
using BananaLab.Core.Data;
using BananaLab.Core.Sessions;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Users;

/// <summary>
/// API keys: shown once at creation, stored only as a SHA-256 hash, found by their prefix. Successful
/// look-ups are remembered for a few seconds so a polling client costs one query, not three; revoking
/// a key forgets it at once on every node (through <see cref="IClusterBroadcast"/>; a node that misses the
/// message because Redis was down forgets it within <see cref="CacheLifetime"/>).
/// </summary>
public sealed class ApiKeyService
{
    /// <summary>Broadcast topic: <c>key:{id}</c> or <c>user:{id}</c>, whose remembered look-ups every node drops.</summary>
    public const string RevokedTopic = "apikeys:revoked";
    public const string KeyMarker = "bl_";
    public const int PrefixLength = 12;
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private const int MaxCachedKeys = 10_000;
    private readonly ConcurrentDictionary<string, (Authenticated Caller, DateTime Until)> _recent = new();
    private readonly IDbContextFactory<BananaLabDbContext> _dbFactory;
    private readonly IClusterBroadcast _broadcast;
    private readonly TimeProvider _clock;

    public ApiKeyService(IDbContextFactory<BananaLabDbContext> dbFactory, IClusterBroadcast broadcast, TimeProvider clock)
    {
        _dbFactory = dbFactory;
        _broadcast = broadcast;
        _clock = clock;
        broadcast.Subscribe(RevokedTopic, OnRevoked);
    }

    public sealed record CreatedKey(ApiKey Key, string Secret);

    public sealed record Authenticated(User User, ApiKey Key);

    public async Task<CreatedKey> CreateAsync(Guid userId, string name, CancellationToken cancellationToken = default)
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        var secret = KeyMarker + RandomNumberGenerator.GetString(alphabet, 40);
        return new CreatedKey(await StoreAsync(userId, name, secret, cancellationToken), secret);
    }

    /// <summary>Accepts an exact, externally chosen key (bootstrap automation); idempotent.</summary>
    public async Task<ApiKey> EnsureAsync(Guid userId, string name, string secret, CancellationToken cancellationToken = default)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var hash = Hash(secret);
        return await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.KeyHash == hash, cancellationToken)
            ?? await StoreAsync(userId, name, secret, cancellationToken);
    }

    private async Task<ApiKey> StoreAsync(Guid userId, string name, string secret, CancellationToken cancellationToken)
    {
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            UserId = userId,
            Name = string.IsNullOrWhiteSpace(name) ? "API key" : name.Trim(),
            Prefix = PrefixOf(secret),
            KeyHash = Hash(secret),
            CreatedAt = _clock.GetUtcNow().UtcDateTime,
        };
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return key;
    }

    /// <summary>The key's user when the key exists, is not revoked and its user is enabled.</summary>
    public async Task<Authenticated?> AuthenticateAsync(string? secret, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(secret) || secret.Length > 200) return null;
        secret = secret.Trim();
        var hexHash = Hash(secret);
        var now = _clock.GetUtcNow().UtcDateTime;
        if (_recent.TryGetValue(hexHash, out var cached) && cached.Until > now) return cached.Caller;
        var prefix = PrefixOf(secret);
        var hash = Convert.FromHexString(hexHash);

        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var candidates = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Prefix == prefix && k.RevokedAt == null)
            .Join(db.Users, k => k.UserId, u => u.Id, (k, u) => new { Key = k, User = u })
            .ToListAsync(cancellationToken);
        var match = candidates.FirstOrDefault(c => CryptographicOperations.FixedTimeEquals(Convert.FromHexString(c.Key.KeyHash), hash));
        if (match is null || match.User.Disabled) return null;

        if (match.Key.LastUsedAt is null || now - match.Key.LastUsedAt > LastUsedResolution)
            await db.ApiKeys.Where(k => k.Id == match.Key.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        var caller = new Authenticated(match.User, match.Key);
        if (_recent.Count >= MaxCachedKeys) _recent.Clear();
        _recent[hexHash] = (caller, now + CacheLifetime);
        return caller;
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId)
            .OrderByDescending(k => k.CreatedAt).ToListAsync(cancellationToken);
    }

    public async Task<bool> RevokeAsync(Guid userId, Guid keyId, CancellationToken cancellationToken = default)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var now = _clock.GetUtcNow().UtcDateTime;
        var revoked = await db.ApiKeys.Where(k => k.Id == keyId && k.UserId == userId && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken) == 1;
        // Session keys made from it go too (those kept in Redis are refused by their store, which reads RevokedAt).
        if (revoked) await db.Set<ClientSession>().Where(s => s.ApiKeyId == keyId).ExecuteDeleteAsync(cancellationToken);
        await _broadcast.PublishAsync(RevokedTopic, Revocation.OfKey(keyId));
        return revoked;
    }

    /// <summary>Drops every node's remembered look-ups of a user's keys (disabled account, role change).</summary>
    public Task ForgetUserAsync(Guid userId) => _broadcast.PublishAsync(RevokedTopic, Revocation.OfUser(userId));

    private void OnRevoked(string message)
    {
        if (Revocation.Parse(message) is { } revocation)
            Forget(entry => entry.Key.Id == revocation.KeyId || entry.User.Id == revocation.UserId);
    }

    private void Forget(Func<Authenticated, bool> which)
    {
        foreach (var (hash, entry) in _recent)
            if (which(entry.Caller)) _recent.TryRemove(hash, out _);
    }

    private static string PrefixOf(string secret) => secret.Length <= PrefixLength ? secret : secret[..PrefixLength];

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
