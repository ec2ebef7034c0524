using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Workers;

namespace BananaLab.Worker.Queue;

/// <summary>
/// How a worker divides its slots among the models it serves. Local models (their provider's
/// <see cref="IImageGenerator.DefaultConcurrency"/> is 1: they work on this machine's CPU or GPU) without a
/// <c>Models:id:Concurrency</c> of their own share one pool of <c>Worker:Concurrency</c> slots. Every other model (a remote
/// provider, bound by the network rather than this machine, or a model given its own concurrency) has a pool of its own,
/// so 8 remote tasks can run beside 1 ONNX task and a slow provider never holds the local model's slots.
/// </summary>
public sealed record ClaimPool(string Name, int Slots, IReadOnlyList<string> ModelIds)
{
    /// <summary>The pools for <paramref name="served"/>; a model without a generator in this build joins the local pool (its task then fails at once).</summary>
    public static IReadOnlyList<ClaimPool> Plan(LocalWorkerModels served, ModelCatalog catalog, GenerationProviders providers, WorkerOptions options)
    {
        var local = new List<string>();
        var pools = new List<ClaimPool>();
        foreach (var id in served.Models.Order(StringComparer.Ordinal))
        {
            var model = catalog.Find(id);
            var concurrency = model is null ? 0
                : model.Concurrency > 0 ? model.Concurrency
                : providers.Find(model.Provider)?.DefaultConcurrency ?? 1;
            if (model is null || (model.Concurrency == 0 && concurrency <= 1)) local.Add(id);
            else pools.Add(new ClaimPool(id, concurrency, [id]));
        }
        if (local.Count > 0 || pools.Count == 0) pools.Insert(0, new ClaimPool("local", options.Concurrency, local));
        return pools;
    }
}
