using System.Collections.Concurrent;
using System.Security.Claims;
using BananaLab.Core.Users;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.SignalR;

namespace BananaLab.Web.Hubs;

/// <summary>
/// This node's hub connections by the key and account that opened them: a connection is authenticated once,
/// at its start, so revoking its key, disabling its account or changing its role aborts it here (every node
/// hears the revocation), and the client must reconnect with what it is still allowed to use.
/// </summary>
public sealed class HubCallers : IDisposable
{
    private readonly ConcurrentDictionary<string, (HubCallerContext Context, Guid UserId, Guid? KeyId)> _connections = new();
    private readonly IDisposable _revocations;

    public HubCallers(AccountRevocations revocations) => _revocations = revocations.Subscribe(Abort);

    public void Add(HubCallerContext context)
    {
        var user = context.User ?? new ClaimsPrincipal();
        Guid? keyId = Guid.TryParse(user.FindFirstValue(CallerPrincipal.KeyIdClaim), out var id) ? id : null;
        _connections[context.ConnectionId] = (context, user.UserId(), keyId);
    }

    public void Remove(string connectionId) => _connections.TryRemove(connectionId, out _);

    private void Abort(Revocation revocation)
    {
        foreach (var (connectionId, caller) in _connections)
        {
            var revoked = (caller.KeyId is not null && caller.KeyId == revocation.KeyId) || caller.UserId == revocation.UserId;
            if (!revoked) continue;
            caller.Context.Abort();
            _connections.TryRemove(connectionId, out _);
        }
    }

    public void Dispose() => _revocations.Dispose();
}
