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
    };
}
