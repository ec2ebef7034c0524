using BananaLab.Core.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Providers.Gemini;

public static class GeminiSetup
{
    /// <summary>The <c>gemini</c> provider: its generator, the check of its catalog entries, and its HttpClient.</summary>
    public static IServiceCollection AddBananaLabGeminiProvider(this IServiceCollection services) =>
        services.AddRemoteProvider<GeminiImageGenerator, GeminiCatalogValidator>(GeminiImageGenerator.ProviderName);
}

/// <summary>
/// Stops start-up on a <c>gemini</c> entry without <c>RemoteModel</c>, naming the key. A missing <c>ApiKey</c> does not
/// stop it: the model is listed and switched off until a key is set (<see cref="GeminiImageGenerator.UnavailableReason"/>).
/// </summary>
public sealed class GeminiCatalogValidator : IValidateOptions<ModelCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = options.Models
            .Where(m => string.Equals(m.Value.Provider, GeminiImageGenerator.ProviderName, StringComparison.OrdinalIgnoreCase)
                        && string.IsNullOrWhiteSpace(m.Value.RemoteModel))
            .Select(m => $"Models:{m.Key}:RemoteModel is required for the gemini provider: the Gemini model's name, e.g. gemini-2.5-flash-image.")
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
