using System.ComponentModel.DataAnnotations;

namespace BananaLab.Web.Accounts;

/// <summary>Identity's lockout: after this many wrong passwords in a row an account's password sign-in is refused for a while.</summary>
public sealed class SignInLockoutOptions
{
    public const string Section = "SignInLockout";

    [Range(1, 1000, ErrorMessage = "SignInLockout:MaxFailedAttempts must be between 1 and 1000.")]
    public int MaxFailedAttempts { get; set; } = 5;

    [Range(1, 24 * 60 * 60, ErrorMessage = "SignInLockout:LockoutSeconds must be between 1 and 86400.")]
    public int LockoutSeconds { get; set; } = 300;
}
