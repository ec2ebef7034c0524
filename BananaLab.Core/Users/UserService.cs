using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Users;

public sealed class CreditsOptions
{
    public const string Section = "Credits";

    /// <summary>Credits every new account starts with.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 1_000_000, ErrorMessage = "Credits:SignupGrant must be between 0 and 1000000.")]
    public int SignupGrant { get; set; } = 100;
}

public sealed class UserService(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    CreditLedger ledger,
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
        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Email = email.Trim(),
            NormalizedEmail = NormalizeEmail(email),
            DisplayName = displayName.Trim(),
            Role = role,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        if (password is not null) user.PasswordHash = Hasher.HashPassword(user, password);

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Users.Add(user);
            await db.SaveChangesAsync(cancellationToken);
        }
        var grant = initialCredits ?? credits.Value.SignupGrant;
        if (grant > 0) user.CreditBalance = await ledger.GrantAsync(user.Id, grant, "sign-up grant", cancellationToken);
        return user;
    }

    public bool VerifyPassword(User user, string password) =>
        user.PasswordHash is not null &&
        Hasher.VerifyHashedPassword(user, user.PasswordHash, password) != PasswordVerificationResult.Failed;
}
