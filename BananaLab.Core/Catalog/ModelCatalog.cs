using Microsoft.Extensions.Options;

namespace BananaLab.Core.Catalog;

public sealed class ModelCatalogOptions
{
    public const string Section = "Models";
    public Dictionary<string, ModelDefinition> Models { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The models this installation offers, read once from configuration.</summary>
public sealed class ModelCatalog(IOptions<ModelCatalogOptions> options)
{
    private readonly IReadOnlyList<ModelDefinition> _models = options.Value.Models
        .Select(pair => { pair.Value.Id = pair.Key; return pair.Value; })
        .OrderBy(m => m.Id, StringComparer.Ordinal)
        .ToList();

    public IReadOnlyList<ModelDefinition> All => _models;

    public ModelDefinition? Find(string? id) =>
        string.IsNullOrWhiteSpace(id) ? null
        : _models.FirstOrDefault(m => string.Equals(m.Id, id.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>Stops start-up on a bad catalog entry, naming the configuration key to fix.</summary>
public sealed class ModelCatalogOptionsValidator : IValidateOptions<ModelCatalogOptions>
{
    private static readonly string[] TierKeys = ["1K", "2K", "4K"];

    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = new List<string>();
        if (options.Models.Count == 0)
            errors.Add("Models: at least one model must be configured.");

        foreach (var (id, model) in options.Models)
        {
            var key = $"Models:{id}";
            if (string.IsNullOrWhiteSpace(model.DisplayName)) errors.Add($"{key}:DisplayName is required.");
            if (string.IsNullOrWhiteSpace(model.Provider)) errors.Add($"{key}:Provider is required.");
            if (model.NativeWidth is > 0 and < 8 || model.NativeHeight is > 0 and < 8 || model.NativeWidth < 0 || model.NativeHeight < 0)
                errors.Add($"{key}:NativeWidth and {key}:NativeHeight must be at least 8 pixels (or 0: the provider's own size).");
            if (model.Concurrency is < 0 or > 64) errors.Add($"{key}:Concurrency must be between 0 (the provider's default) and 64.");
            if (!string.IsNullOrWhiteSpace(model.Endpoint) &&
                !(Uri.TryCreate(model.Endpoint, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "http" or "https"))
                errors.Add($"{key}:Endpoint must be an absolute http(s) URL.");
            if (model.Tiers.Count == 0) errors.Add($"{key}:Tiers must offer at least one of 1K, 2K, 4K.");
            foreach (var (tier, price) in model.Tiers)
            {
                if (!TierKeys.Contains(tier, StringComparer.OrdinalIgnoreCase))
                    errors.Add($"{key}:Tiers:{tier} is not a size tier; use 1K, 2K or 4K.");
                else if (price <= 0)
                    errors.Add($"{key}:Tiers:{tier} must be a positive credit price (was {price}).");
            }
            if (model.MaxImages is < 1 or > 16) errors.Add($"{key}:MaxImages must be between 1 and 16.");
            if (model.DefaultSteps < 1 || model.DefaultSteps > model.MaxSteps)
                errors.Add($"{key}:DefaultSteps must be between 1 and MaxSteps ({model.MaxSteps}).");
            if (model.DefaultGuidance is < 0 or > 30) errors.Add($"{key}:DefaultGuidance must be between 0 and 30.");
            if (model.TimeoutSeconds < 1) errors.Add($"{key}:TimeoutSeconds must be positive.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
