using BananaLab.Core.Catalog;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>
/// Stops start-up on a <c>Models:*:Scheduler</c> of an <c>onnx</c> model that names no scheduler, naming the key:
/// a typo used to run the model with Euler without a word.
/// </summary>
public sealed class SchedulerCatalogValidator : IValidateOptions<ModelCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = options.Models
            .Where(m => string.Equals(m.Value.Provider, InferenceServiceCollectionExtensions.ProviderKey, StringComparison.OrdinalIgnoreCase)
                        && !string.IsNullOrWhiteSpace(m.Value.Scheduler) && !SchedulerFactory.IsKnown(m.Value.Scheduler))
            .Select(m => $"Models:{m.Key}:Scheduler '{m.Value.Scheduler}' is not a scheduler; use {string.Join(", ", SchedulerFactory.CatalogNames)}, " +
                         "or leave it empty for the model's own scheduler_config.json.")
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
