using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;

namespace BananaLab.Core.Workers;

/// <summary>
/// Whether a worker can run a catalog model now, decided the same way for submission, <c>/readyz</c>, the admin models page,
/// <c>/api/v1/models</c> and the worker's sweep of queued tasks. A model is available when its provider does not switch
/// it off in this installation (<see cref="IImageGenerator.UnavailableReason"/>, e.g. a remote model without an API key)
/// and
/// <list type="bullet">
/// <item>this process's own worker runs it (one machine: the in-process worker's generators decide), or</item>
/// <item>a live worker registration lists it (<see cref="WorkerDirectory"/>: separate worker processes advertise what they
/// serve in the shared database), or</item>
/// <item>this process runs no worker and no worker has ever registered with the database: a new cluster whose workers have
/// not started yet, or a web node whose queue is driven by hand. Its tasks wait for the first worker; if that worker cannot
/// run them, the sweep settles them after <c>Worker:UnservedGraceSeconds</c>.</item>
/// </list>
/// </summary>
public sealed class ModelAvailability(GenerationProviders providers, LocalWorkerModels local, WorkerDirectory directory,
    IModelHealthSource localHealth)
{
    public async Task<ModelServing> OfAsync(ModelDefinition model, CancellationToken cancellationToken) =>
        Decide(model, await directory.ReadAsync(cancellationToken));

    /// <summary>Every given model, from one read of the registrations.</summary>
    public async Task<IReadOnlyList<ModelServing>> OfAsync(IEnumerable<ModelDefinition> models, CancellationToken cancellationToken)
    {
        var roster = await directory.ReadAsync(cancellationToken);
        return models.Select(m => Decide(m, roster)).ToList();
    }

    private ModelServing Decide(ModelDefinition model, WorkerRoster roster)
    {
        var health = HealthOf(model, roster);
        return Serving(model, roster, health) with { Health = health };
    }

    /// <summary>This process's worker's report, live; every other worker's as it last registered.</summary>
    private IReadOnlyList<(string Worker, ModelHealth Health)> HealthOf(ModelDefinition model, WorkerRoster roster)
    {
        var own = localHealth.Current().Where(h => string.Equals(h.ModelId, model.Id, StringComparison.OrdinalIgnoreCase))
            .Select(h => (local.WorkerName!, h));
        return own.Concat(roster.HealthOf(model.Id).Where(h => h.Worker != local.WorkerName)).ToList();
    }

    private ModelServing Serving(ModelDefinition model, WorkerRoster roster, IReadOnlyList<(string Worker, ModelHealth Health)> health)
    {
        // Switched off in this installation's settings (a remote model without its key): no worker may run it, whatever it registered.
        if (providers.Find(model.Provider)?.UnavailableReason(model) is { } setting)
            return new ModelServing(model.Id, false, [], setting) { NotConfigured = true };
        var workers = roster.Serving(model.Id).ToList();
        if (local.Serves(model.Id) && !workers.Contains(local.WorkerName!)) workers.Insert(0, local.WorkerName!);
        // A worker whose provider refused our credentials has switched the model off (until a restart or an admin's retry).
        var off = health.Where(h => h.Health.Circuit == CircuitState.Off).ToList();
        var on = workers.Where(w => off.All(o => o.Worker != w)).ToList();
        if (on.Count > 0) return new ModelServing(model.Id, true, on, $"served by {string.Join(", ", on)}.");
        if (off.Count > 0) return new ModelServing(model.Id, false, [], $"switched off on {string.Join(", ", off.Select(o => o.Worker).Distinct())}: {off[0].Health.LastError}");
        if (!local.RunsWorker && !roster.AnyRegistered)
            return new ModelServing(model.Id, true, [], "no worker has registered yet; its tasks wait for the first.");
        if (providers.Find(model.Provider) is null)
            return new ModelServing(model.Id, false, [], $"no running worker serves it; this installation has no generator for its provider '{model.Provider}'.");
        return new ModelServing(model.Id, false, [], local.RunsWorker
            ? "this process's worker does not run it (Worker:Models) and no other running worker does."
            : "no running worker serves it.");
    }
}

/// <summary>Whether a model can run now, which workers serve it, and why, in a sentence; and how it fares on each worker.</summary>
public sealed record ModelServing(string ModelId, bool Available, IReadOnlyList<string> Workers, string Reason)
{
    /// <summary>
    /// Switched off by this installation's settings (<see cref="IImageGenerator.UnavailableReason"/>, e.g. a shipped remote
    /// model whose key is not set): deliberate, so not a fault <c>/readyz</c> reports.
    /// </summary>
    public bool NotConfigured { get; init; }

    /// <summary>Each worker's report on the model (<see cref="ModelHealth"/>): this process's own worker live, others as last registered.</summary>
    public IReadOnlyList<(string Worker, ModelHealth Health)> Health { get; init; } = [];
}
