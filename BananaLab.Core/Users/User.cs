namespace BananaLab.Core.Users;

public sealed class User
{
    public Guid Id { get; set; }
    public required string Email { get; set; }
    /// <summary>Upper-cased email for case-insensitive unique lookups.</summary>
    public required string NormalizedEmail { get; set; }
    public required string DisplayName { get; set; }
    public UserRole Role { get; set; }
    public bool Disabled { get; set; }
    public string? PasswordHash { get; set; }
    /// <summary>Wrong passwords since the last sign-in or lockout (Identity's lockout counter).</summary>
    public int AccessFailedCount { get; set; }
    /// <summary>Until when password sign-in is refused after too many wrong passwords (UTC).</summary>
    public DateTime? LockoutEndsAt { get; set; }
    /// <summary>Spendable credits; always equals the sum of the user's ledger amounts and never goes below zero.</summary>
    public int CreditBalance { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Called for every task of this account when it ends.</summary>
    public string? WebhookUrl { get; set; }
    /// <summary>Signs this account's webhook bodies (HMAC-SHA256); created on first use.</summary>
    public string? WebhookSecret { get; set; }
}

public enum UserRole
{
    User = 0,
    Admin = 1,
}

public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }
    /// <summary>The first characters of the key, shown in lists and used to find the row.</summary>
    public required string Prefix { get; set; }
    /// <summary>Hex SHA-256 of the whole key; the key itself is never stored.</summary>
    public required string KeyHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}
