using System.Collections.Concurrent;
using BananaLab.Core.Cluster;

namespace BananaLab.Core.Users;

/// <summary>What lost its right to act: one API key, or everything of one account (disabled, role changed).</summary>
public sealed record Revocation(Guid? KeyId, Guid? UserId)
{
    private const string KeyMessage = "key:";
    private const string UserMessage = "user:";

    public static string OfKey(Guid keyId) => KeyMessage + keyId;

    public static string OfUser(Guid userId) => UserMessage + userId;

    public static Revocation? Parse(string message) =>
        message.StartsWith(KeyMessage, StringComparison.Ordinal) && Guid.TryParse(message.AsSpan(KeyMessage.Length), out var keyId) ? new(keyId, null)
        : message.StartsWith(UserMessage, StringComparison.Ordinal) && Guid.TryParse(message.AsSpan(UserMessage.Length), out var userId) ? new(null, userId)
        : null;
}

/// <summary>
/// Hands every node's long-lived holders of a caller (hub connections, Blazor circuits) the revocations
/// <see cref="ApiKeyService"/> broadcasts, so they end at once instead of at their next re-check.
/// </summary>
public sealed class AccountRevocations
{
    private readonly ConcurrentDictionary<object, Action<Revocation>> _handlers = new();

    public AccountRevocations(IClusterBroadcast broadcast) =>
        broadcast.Subscribe(ApiKeyService.RevokedTopic, message =>
        {
            if (Revocation.Parse(message) is not { } revocation) return;
            foreach (var handler in _handlers.Values) handler(revocation);
        });

    /// <summary>Calls <paramref name="handler"/> with every revocation until the result is disposed.</summary>
    public IDisposable Subscribe(Action<Revocation> handler)
    {
        var token = new Subscription(this);
        _handlers[token] = handler;
        return token;
    }

    private sealed class Subscription(AccountRevocations owner) : IDisposable
    {
        public void Dispose() => owner._handlers.TryRemove(this, out _);
    }
}
