using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Users;

public sealed class UserService(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    CreditLedger ledger,
    ApiKeyService apiKeys,
    IOptions<CreditsOptions> credits,
    TimeProvider clock)
{
    private static readonly PasswordHasher<User> Hasher = new();

    public static string NormalizeEmail(string email) => email.Trim().ToUpperInvariant();

    public async Task<User?> FindByEmailAsync(string email, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var normalized = NormalizeEmail(email);
        return await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.NormalizedEmail == normalized, cancellationToken);
    }

    public async Task<User?> FindAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
    }

    /// <summary>Creates an account and grants it the sign-up credits (or <paramref name="initialCredits"/>).</summary>
    public async Task<User> CreateAsync(string email, string displayName, UserRole role, string? password = null,
        int? initialCredits = null, CancellationToken cancellationToken = default)
    {
        var user = NewUser(email, displayName, role);
        if (password is not null) user.PasswordHash = Hasher.HashPassword(user, password);
        await AddAsync(user, initialCredits, cancellationToken);
        return user;
    }

    public User NewUser(string email, string displayName, UserRole role) => new()
    {
        Id = Guid.CreateVersion7(),
        Email = email.Trim(),
        NormalizedEmail = NormalizeEmail(email),
        DisplayName = displayName.Trim(),
        Role = role,
        CreatedAt = clock.GetUtcNow().UtcDateTime,
    };

    /// <summary>Stores a new account (its password already hashed) and grants the sign-up credits.</summary>
    public async Task AddAsync(User user, int? initialCredits = null, CancellationToken cancellationToken = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Users.Add(user);
            await db.SaveChangesAsync(cancellationToken);
        }
        var grant = initialCredits ?? credits.Value.SignupGrant;
        if (grant > 0) user.CreditBalance = await ledger.GrantAsync(user.Id, grant, "sign-up grant", cancellationToken);
    }

    public sealed record UserPage(IReadOnlyList<User> Items, int Total);

    /// <summary>Accounts for the admin list, newest first; <paramref name="search"/> matches email or name.</summary>
    public async Task<UserPage> ListAsync(string? search, int page, int pageSize, CancellationToken cancellationToken = default)
    {
        page = Math.Max(1, page);
        pageSize = Math.Clamp(pageSize, 1, 100);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var pattern = LikePatterns.Containing(db.Database, search);
            query = query.Where(u => EF.Functions.Like(u.Email.ToLower(), pattern, LikePatterns.Escape) || EF.Functions.Like(u.DisplayName.ToLower(), pattern, LikePatterns.Escape));
        }
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(u => u.CreatedAt).Skip(Paging.Offset(page, pageSize)).Take(pageSize).ToListAsync(cancellationToken);
        return new UserPage(items, total);
    }

    /// <summary>Changes an account's role; an admin cannot demote themself (someone must stay admin).</summary>
    public async Task<string?> SetRoleAsync(Guid actorId, Guid userId, UserRole role, CancellationToken cancellationToken = default)
    {
        if (actorId == userId && role != UserRole.Admin) return "You cannot remove your own admin role.";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var changed = await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.Role, role), cancellationToken);
        await apiKeys.ForgetUserAsync(userId);
        return changed == 1 ? null : "There is no such user.";
    }

    /// <summary>Disables or re-enables an account: a disabled one can neither sign in nor use its API keys.</summary>
    public async Task<string?> SetDisabledAsync(Guid actorId, Guid userId, bool disabled, CancellationToken cancellationToken = default)
    {
        if (actorId == userId && disabled) return "You cannot disable your own account.";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var changed = await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.Disabled, disabled), cancellationToken);
        await apiKeys.ForgetUserAsync(userId);
        return changed == 1 ? null : "There is no such user.";
    }

    /// <summary>Sets an account's password (stored as an Identity password hash).</summary>
    public async Task SetPasswordAsync(Guid userId, string password, CancellationToken cancellationToken = default)
    {
        var user = await FindAsync(userId, cancellationToken) ?? throw new InvalidOperationException($"There is no user {userId}.");
        var hash = Hasher.HashPassword(user, password);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.PasswordHash, hash), cancellationToken);
    }

    public bool VerifyPassword(User user, string password) =>
        user.PasswordHash is not null &&
        Hasher.VerifyHashedPassword(user, user.PasswordHash, password) != PasswordVerificationResult.Failed;
}
