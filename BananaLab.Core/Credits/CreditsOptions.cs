namespace BananaLab.Core.Credits;

/// <summary>The <c>Credits</c> section: what a new account is given.</summary>
public sealed class CreditsOptions
{
    public const string Section = "Credits";

    /// <summary>Credits every new account starts with.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 1_000_000, ErrorMessage = "Credits:SignupGrant must be between 0 and 1000000.")]
    public int SignupGrant { get; set; } = 100;
}
