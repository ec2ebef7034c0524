using BananaLab.Core.Catalog;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Providers.OpenAI;

/// <summary>
/// Stops start-up on an <c>openai</c> catalog entry that cannot work, naming the key: no <c>RemoteModel</c>, or a
/// <c>NativeWidth</c>/<c>NativeHeight</c> that the model's family does not make (OpenAI refuses any other size).
/// <c>Endpoint</c> (absolute http or https) is checked for every provider by <see cref="ModelCatalogOptionsValidator"/>.
/// </summary>
public sealed class OpenAiCatalogValidator : IValidateOptions<ModelCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = new List<string>();
        foreach (var (id, model) in options.Models)
        {
            if (!string.Equals(model.Provider, OpenAiImageGenerator.Name, StringComparison.OrdinalIgnoreCase)) continue;
            var key = $"Models:{id}";
            if (string.IsNullOrWhiteSpace(model.RemoteModel))
            {
                errors.Add($"{key}:RemoteModel is required for provider openai: the remote model's name, e.g. gpt-image-1, dall-e-3, " +
                           "or the model an OpenAI-compatible Endpoint serves.");
                continue;
            }
            var family = OpenAiModelFamily.Of(model);
            if ((model.NativeWidth > 0 || model.NativeHeight > 0) && family.Sizes.Count > 0
                && !family.Sizes.Contains((model.NativeWidth, model.NativeHeight)))
                errors.Add($"{key}:NativeWidth and {key}:NativeHeight must be a size {model.RemoteModel} makes " +
                           $"({string.Join(", ", family.Sizes.Select(s => $"{s.Width}x{s.Height}"))}), or 0 to pick the nearest for each task.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
