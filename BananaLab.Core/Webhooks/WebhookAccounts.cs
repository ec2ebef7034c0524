using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Webhooks;

/// <summary>An account's webhook URL and signing secret.</summary>
public sealed class WebhookAccounts(IDbContextFactory<BananaLabDbContext> dbFactory, OutboundAddressPolicy policy)
{
    public sealed record Settings(string? Url, string Secret);

    public async Task<Settings> GetAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId, cancellationToken);
        return new Settings(user.WebhookUrl, user.WebhookSecret ?? await RotateSecretAsync(userId, onlyIfMissing: true, cancellationToken));
    }

    /// <summary>Sets (or clears, with null) the account webhook; returns an error message for a refused URL.</summary>
    public async Task<string?> SetUrlAsync(Guid userId, string? url, CancellationToken cancellationToken)
    {
        url = string.IsNullOrWhiteSpace(url) ? null : url.Trim();
        if (url is not null && !policy.TryValidateUrl(url, out var error)) return error;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.WebhookUrl, url), cancellationToken);
        return null;
    }

    /// <summary>A new signing secret (the old one stops working at once).</summary>
    public async Task<string> RotateSecretAsync(Guid userId, bool onlyIfMissing, CancellationToken cancellationToken)
    {
        var secret = WebhookSecrets.Create();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var users = db.Users.Where(u => u.Id == userId);
        if (onlyIfMissing) users = users.Where(u => u.WebhookSecret == null);
        if (await users.ExecuteUpdateAsync(s => s.SetProperty(u => u.WebhookSecret, secret), cancellationToken) == 1) return secret;
        return await db.Users.Where(u => u.Id == userId).Select(u => u.WebhookSecret!).SingleAsync(cancellationToken);
    }
}
