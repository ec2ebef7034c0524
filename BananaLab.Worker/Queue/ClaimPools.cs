using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;

namespace BananaLab.Worker.Queue;

/// <summary>
/// How a worker divides its slots among the models it serves. Local models (their provider is not
/// <see cref="IImageGenerator.IsRemote"/>: they work on this machine's CPU or GPU) without a <c>Models:id:Concurrency</c>
/// of their own share one pool of <c>Worker:Concurrency</c> slots. Every other model (a remote provider, bound by the
/// network or another machine, or a model given its own concurrency) has a pool of its own, of its <c>Concurrency</c> or
/// its provider's <see cref="IImageGenerator.DefaultConcurrency"/>, so 8 remote tasks can run beside 1 ONNX task and a
/// slow provider never holds the local models' slots. In the local pool, the models whose generator shares runs
/// (<see cref="IBatchingImageGenerator.SharesRuns"/>) are claimed in batches of up to <c>Worker:MaxBatchSize</c> images.
/// </summary>
public sealed record ClaimPool(string Name, int Slots, IReadOnlyList<string> ModelIds)
{
    /// <summary>How much one claim of this pool takes; <see cref="BatchClaim.Single"/> for remote models.</summary>
    public BatchClaim Batch { get; init; } = BatchClaim.Single;

    /// <summary>The pool of the models that run on this machine (<c>Worker:Concurrency</c> slots).</summary>
    public bool IsLocal { get; init; }

    /// <summary>The pools for <paramref name="served"/>; a model without a generator in this build joins the local pool (its task then fails at once).</summary>
    public static IReadOnlyList<ClaimPool> Plan(LocalWorkerModels served, ModelCatalog catalog, GenerationProviders providers, WorkerOptions options)
    {
        var local = new List<string>();
        var pools = new List<ClaimPool>();
        foreach (var id in served.Models.Order(StringComparer.Ordinal))
        {
            var model = catalog.Find(id);
            var generator = model is null ? null : providers.Find(model.Provider);
            if (model is null || generator is null || (model.Concurrency == 0 && !generator.IsRemote)) local.Add(id);
            else pools.Add(new ClaimPool(id, model.Concurrency > 0 ? model.Concurrency : Math.Max(1, generator.DefaultConcurrency), [id]));
        }
        if (local.Count > 0 || pools.Count == 0)
        {
            var batchable = options.MaxBatchSize <= 1 ? [] : local.Where(id => catalog.Find(id) is { } model
                && providers.Find(model.Provider) is IBatchingImageGenerator generator && generator.SharesRuns(model)).ToList();
            pools.Insert(0, new ClaimPool("local", options.Concurrency, local)
            {
                IsLocal = true,
                Batch = batchable.Count == 0 ? BatchClaim.Single : new BatchClaim(options.MaxBatchSize, batchable),
            });
        }
        return pools;
    }
}
