using System.Security.Cryptography;
using System.Text;

namespace BananaLab.Core.Webhooks;

/// <summary>
/// How an account's one webhook secret signs both ways. <c>BananaLab-Signature</c> keys HMAC-SHA256 with the
/// secret's UTF-8 text, as it always has; Standard Webhooks (https://www.standardwebhooks.com/, "Signature scheme")
/// keys it with the bytes the base64 after <c>whsec_</c> stands for. New secrets are standard base64, so the secret
/// itself is what a Standard Webhooks library takes; an older one in the URL-safe alphabet (<c>-</c>, <c>_</c>) stands
/// for the same bytes, and <see cref="StandardForm"/> spells it in the standard alphabet.
/// </summary>
public static class WebhookSecrets
{
    public const string Prefix = "whsec_";

    /// <summary>A new secret: <c>whsec_</c> and 24 random bytes in standard base64 (32 characters, no padding).</summary>
    public static string Create() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    /// <summary>
    /// The Standard Webhooks signing key: the base64 after <c>whsec_</c>, read in either alphabet; a secret of any
    /// other form (none is made) falls back to its UTF-8 bytes, so every secret has exactly one key.
    /// </summary>
    public static byte[] SigningKey(string secret)
    {
        if (secret.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var base64 = secret[Prefix.Length..].Replace('-', '+').Replace('_', '/');
            var buffer = new byte[base64.Length];
            if (base64.Length > 0 && Convert.TryFromBase64String(base64, buffer, out var written)) return buffer[..written];
        }
        return Encoding.UTF8.GetBytes(secret);
    }

    /// <summary>The secret as a Standard Webhooks verifier takes it: <c>whsec_</c> and the signing key in standard base64.</summary>
    public static string StandardForm(string secret) => Prefix + Convert.ToBase64String(SigningKey(secret));
}
