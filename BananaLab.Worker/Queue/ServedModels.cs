using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Workers;

namespace BananaLab.Worker.Queue;

/// <summary>Which catalog models this process's worker runs.</summary>
public static class ServedModels
{
    /// <summary>
    /// <c>Worker:Models</c>, or every catalog model this process has a generator for; either way without the models their
    /// provider says this installation cannot run (<see cref="IImageGenerator.UnavailableReason"/>, e.g. no API key), which
    /// stay listed and switched off. A model listed in <c>Worker:Models</c> without a generator stops start-up: its tasks
    /// would wait for this worker forever.
    /// </summary>
    public static LocalWorkerModels Resolve(WorkerOptions options, ModelCatalog catalog, GenerationProviders providers)
    {
        bool HasGenerator(ModelDefinition model) => providers.Find(model.Provider) is not null;
        bool Runnable(ModelDefinition model) => providers.Find(model.Provider)?.UnavailableReason(model) is null;
        if (options.Models.Count == 0)
            return new LocalWorkerModels(options.Name, catalog.All.Where(m => HasGenerator(m) && Runnable(m)).Select(m => m.Id));
        var models = options.Models.Select(id => catalog.Find(id)!).Distinct().ToList();
        if (models.FirstOrDefault(m => !HasGenerator(m)) is { } missing)
            throw new InvalidOperationException(
                $"Worker:Models lists '{missing.Id}', but this process has no generator for its provider '{missing.Provider}'.");
        return new LocalWorkerModels(options.Name, models.Where(Runnable).Select(m => m.Id));
    }
}
