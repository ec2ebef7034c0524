namespace BananaLab.Core.Workers;

/// <summary>
/// The catalog models this process's own worker runs: <c>Worker:Models</c>, or every model it has a generator for.
/// <see cref="None"/> in a process that runs no worker (a web node with <c>Worker:Enabled=false</c>).
/// </summary>
public sealed class LocalWorkerModels(string? workerName, IEnumerable<string> modelIds)
{
    private readonly HashSet<string> _models = new(modelIds, StringComparer.OrdinalIgnoreCase);

    public static LocalWorkerModels None { get; } = new(null, []);

    /// <summary>The worker's <c>Worker:Name</c>; null without a worker.</summary>
    public string? WorkerName { get; } = workerName;

    public bool RunsWorker => WorkerName is not null;

    public IReadOnlyCollection<string> Models => _models;

    public bool Serves(string modelId) => _models.Contains(modelId);
}
