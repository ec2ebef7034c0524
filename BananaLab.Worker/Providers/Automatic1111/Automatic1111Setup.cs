using BananaLab.Core.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Providers.Automatic1111;

public static class Automatic1111Setup
{
    /// <summary>The <c>automatic1111</c> provider: its generator, the check of its catalog entries, and its HttpClient.</summary>
    public static IServiceCollection AddBananaLabAutomatic1111Provider(this IServiceCollection services) =>
        services.AddRemoteProvider<Automatic1111ImageGenerator, Automatic1111CatalogValidator>(Automatic1111ImageGenerator.ProviderName);
}

/// <summary>
/// Stops start-up on an <c>automatic1111</c> entry without <c>Endpoint</c> (there is no public server to fall back on), or
/// whose <c>ApiKey</c> is not <c>user:pass</c> (the server's <c>--api-auth</c>); the messages name the key, never its value.
/// </summary>
public sealed class Automatic1111CatalogValidator : IValidateOptions<ModelCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = new List<string>();
        foreach (var (id, model) in options.Models)
        {
            if (!string.Equals(model.Provider, Automatic1111ImageGenerator.ProviderName, StringComparison.OrdinalIgnoreCase)) continue;
            if (string.IsNullOrWhiteSpace(model.Endpoint))
                errors.Add($"Models:{id}:Endpoint is required for the automatic1111 provider: the WebUI server's base URL, e.g. http://127.0.0.1:7860.");
            if (!string.IsNullOrEmpty(model.ApiKey) && model.ApiKey.IndexOf(':') is <= 0)
                errors.Add($"Models:{id}:ApiKey must be user:pass, as the server's --api-auth (or empty for a server without it).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
