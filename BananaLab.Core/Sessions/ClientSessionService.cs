using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Sessions;

/// <summary>A short-lived session key of the session dialect (<c>/login</c>), bound to one user and one model.</summary>
public sealed class ClientSession
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    /// <summary>The API key this session was made from: revoking that key ends the session.</summary>
    public Guid? ApiKeyId { get; set; }
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

/// <summary>
/// Issues and checks session keys. Where they are kept is <see cref="IClientSessionStore"/>'s business: the
/// database on a single node, Redis in a cluster.
/// </summary>
public sealed class ClientSessionService(IClientSessionStore store, IOptions<SessionOptions> options, TimeProvider clock)
{
    public async Task<(ClientSession Session, string Key)> CreateAsync(Guid userId, Guid? apiKeyId, string modelId, string? clientVersion,
        CancellationToken cancellationToken)
    {
        var key = Guid.NewGuid().ToString();
        var now = clock.GetUtcNow().UtcDateTime;
        var session = new ClientSession
        {
            Id = Guid.CreateVersion7(), UserId = userId, ApiKeyId = apiKeyId, KeyHash = Hash(key), ModelId = modelId,
            ClientVersion = clientVersion?.Length > 100 ? clientVersion[..100] : clientVersion,
            CreatedAt = now, ExpiresAt = now.AddMinutes(options.Value.LifetimeMinutes),
        };
        await store.AddAsync(session, cancellationToken);
        return (session, key);
    }

    /// <summary>The live session for a key whose user is still enabled and whose API key is not revoked, or null.</summary>
    public Task<ClientSession?> FindAsync(string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > 100) return Task.FromResult<ClientSession?>(null);
        return store.FindLiveAsync(Hash(key.Trim()), clock.GetUtcNow().UtcDateTime, cancellationToken);
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
