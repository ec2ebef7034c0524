using System.Security.Cryptography;
using System.Text;
using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Sessions;

/// <summary>A short-lived session key of the session dialect (<c>/login</c>), bound to one user and one model.</summary>
public sealed class ClientSession
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    /// <summary>Hex SHA-256 of the session key; the key itself is only ever returned once.</summary>
    public required string KeyHash { get; set; }
    public required string ModelId { get; set; }
    public string? ClientVersion { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

public sealed class SessionOptions
{
    public const string Section = "Sessions";

    [System.ComponentModel.DataAnnotations.Range(1, 7 * 24 * 60, ErrorMessage = "Sessions:LifetimeMinutes must be between 1 and 10080.")]
    public int LifetimeMinutes { get; set; } = 60;
}

public sealed class ClientSessionService(IDbContextFactory<BananaLabDbContext> dbFactory, IOptions<SessionOptions> options, TimeProvider clock)
{
    public async Task<(ClientSession Session, string Key)> CreateAsync(Guid userId, string modelId, string? clientVersion,
        CancellationToken cancellationToken)
    {
        var key = Guid.NewGuid().ToString();
        var now = clock.GetUtcNow().UtcDateTime;
        var session = new ClientSession
        {
            Id = Guid.CreateVersion7(), UserId = userId, KeyHash = Hash(key), ModelId = modelId,
            ClientVersion = clientVersion?.Length > 100 ? clientVersion[..100] : clientVersion,
            CreatedAt = now, ExpiresAt = now.AddMinutes(options.Value.LifetimeMinutes),
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return (session, key);
    }

    /// <summary>The live session for a key whose user is still enabled, or null.</summary>
    public async Task<ClientSession?> FindAsync(string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > 100) return null;
        var hash = Hash(key.Trim());
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<ClientSession>().AsNoTracking()
            .Where(s => s.KeyHash == hash && s.ExpiresAt > now)
            .Join(db.Users.Where(u => !u.Disabled), s => s.UserId, u => u.Id, (s, _) => s)
            .SingleOrDefaultAsync(cancellationToken);
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
