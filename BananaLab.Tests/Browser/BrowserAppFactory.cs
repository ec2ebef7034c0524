using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Browser;

/// <summary>
/// The app as the browser tests drive it: the embedded ONNX model <c>banana-nano</c> as the default
/// model, and a bootstrap admin with a password so the tests can sign in through the login form.
/// </summary>
public sealed class BrowserAppFactory : BananaLabFactory
{
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "browser-admin-password";
    public const string EmbeddedModel = "banana-nano";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Bootstrap:AdminEmail"] = AdminEmail,
        ["Bootstrap:AdminPassword"] = AdminPassword,
        ["Api:DefaultModel"] = EmbeddedModel,
        // The studio starts from the model's default steps. At 20 a generation can finish between two renders
        // that reach a busy browser; 60 keeps the same model on screen long enough to watch its progress.
        [$"Models:{EmbeddedModel}:DefaultSteps"] = "60",
    };
}
