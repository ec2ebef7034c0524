using Microsoft.Extensions.Options;

namespace BananaLab.Core.Users;

/// <summary>The first administrator of a fresh install, created at start if missing.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Bootstrap";

    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }
    /// <summary>An exact API key to accept for the admin, for automation; at least 20 characters.</summary>
    public string? AdminApiKey { get; set; }
    public int InitialCredits { get; set; } = 1000;
}

public sealed class BootstrapOptionsValidator : IValidateOptions<BootstrapOptions>
{
    public ValidateOptionsResult Validate(string? name, BootstrapOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.AdminEmail) && !options.AdminEmail.Contains('@'))
            errors.Add("Bootstrap:AdminEmail must be an email address.");
        if (!string.IsNullOrEmpty(options.AdminApiKey) && options.AdminApiKey.Trim().Length < 20)
            errors.Add("Bootstrap:AdminApiKey must be at least 20 characters long.");
        if (!string.IsNullOrEmpty(options.AdminPassword) && options.AdminPassword.Length < 8)
            errors.Add("Bootstrap:AdminPassword must be at least 8 characters long.");
        if (options.InitialCredits < 0) errors.Add("Bootstrap:InitialCredits cannot be negative.");
        if (string.IsNullOrWhiteSpace(options.AdminEmail) && !string.IsNullOrEmpty(options.AdminApiKey))
            errors.Add("Bootstrap:AdminApiKey needs Bootstrap:AdminEmail.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
