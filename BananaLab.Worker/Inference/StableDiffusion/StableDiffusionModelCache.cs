using System.Collections.Concurrent;
using BananaLab.Core.Catalog;
using BananaLab.Worker.Inference.Runtime;

namespace BananaLab.Worker.Inference.StableDiffusion;

/// <summary>One loaded model per folder for the life of the process, shared by all requests.</summary>
public sealed class StableDiffusionModelCache(OnnxSessionFactory sessions, string contentRoot) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<StableDiffusionModel>> _models = new(StringComparer.Ordinal);

    public StableDiffusionModel Get(ModelDefinition definition)
    {
        var folder = Path.GetFullPath(Path.IsPathRooted(definition.Path) ? definition.Path : Path.Combine(contentRoot, definition.Path));
        var lazy = _models.GetOrAdd(folder, f => new Lazy<StableDiffusionModel>(
            () => new StableDiffusionModel(f, definition.Path, sessions), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A missing or broken folder may be fixed while the host runs: try again next time.
            _models.TryRemove(new KeyValuePair<string, Lazy<StableDiffusionModel>>(folder, lazy));
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var lazy in _models.Values)
            if (lazy.IsValueCreated) lazy.Value.Dispose();
    }
}
