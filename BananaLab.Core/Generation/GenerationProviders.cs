using BananaLab.Core.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Core.Generation;

/// <summary>
/// The providers this build has (every <see cref="IImageGenerator"/> registered in the process), by the name each
/// declares, and what each catalog model can take with its provider. Two generators of one name, or a declaration
/// that contradicts itself, stop start-up.
/// </summary>
public sealed class GenerationProviders
{
    private readonly Dictionary<string, IImageGenerator> _generators = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, GenerationCapabilities> _capabilities = new(StringComparer.OrdinalIgnoreCase);

    public GenerationProviders(IEnumerable<IImageGenerator> generators, ModelCatalog catalog)
    {
        foreach (var generator in generators)
            if (!_generators.TryAdd(generator.Provider, generator))
                throw new InvalidOperationException(
                    $"Two generators call themselves '{generator.Provider}': {_generators[generator.Provider].GetType().Name} and {generator.GetType().Name}.");
        foreach (var model in catalog.All)
        {
            if (Find(model.Provider) is not { } generator) continue;
            var capabilities = generator.CapabilitiesFor(model);
            if (capabilities.Problem() is { } problem)
                throw new InvalidOperationException($"The provider '{generator.Provider}' declares impossible capabilities for Models:{model.Id}: {problem}.");
            _capabilities[model.Id] = capabilities;
        }
    }

    /// <summary>The provider names this process has a generator for.</summary>
    public IReadOnlyCollection<string> Names => _generators.Keys;

    /// <summary>The generator of <paramref name="provider"/>, or null when this build has none.</summary>
    public IImageGenerator? Find(string provider) => _generators.GetValueOrDefault(provider);

    /// <summary>What a catalog model can take and give, or null when this build has no generator for its provider.</summary>
    public GenerationCapabilities? CapabilitiesOf(ModelDefinition model) => _capabilities.GetValueOrDefault(model.Id);
}

/// <summary>Registration of providers.</summary>
public static class ImageGeneratorServiceCollectionExtensions
{
    /// <summary>Adds a provider: its generator, one instance in the process, found by the name it declares.</summary>
    public static IServiceCollection AddImageGenerator<TGenerator>(this IServiceCollection services) where TGenerator : class, IImageGenerator
    {
        services.AddSingleton<TGenerator>();
        services.AddSingleton<IImageGenerator>(provider => provider.GetRequiredService<TGenerator>());
        return services;
    }
}
