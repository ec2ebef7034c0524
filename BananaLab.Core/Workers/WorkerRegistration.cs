using System.Text.Json;

namespace BananaLab.Core.Workers;

/// <summary>
/// A worker's advertisement in the shared database: the catalog models it serves, renewed while it runs. It counts until
/// <see cref="ExpiresAt"/>; a worker that stops renewing (stopped, crashed, cut off) drops out then, and its row is
/// deleted a day later.
/// </summary>
public sealed class WorkerRegistration
{
    /// <summary><c>Worker:Name</c>, unique among running workers.</summary>
    public required string Name { get; set; }
    /// <summary><c>Cluster:NodeName</c> of its process.</summary>
    public required string NodeName { get; set; }
    /// <summary>The ids of the catalog models it serves, as a JSON array.</summary>
    public string Models { get; set; } = "[]";
    /// <summary>How each of those models fares on this worker (<see cref="ModelHealth"/>), as a JSON array; renewed with the row.</summary>
    public string Health { get; set; } = "[]";
    public DateTime StartedAt { get; set; }
    public DateTime SeenAt { get; set; }
    public DateTime ExpiresAt { get; set; }

    public IReadOnlyList<string> ModelIds => JsonSerializer.Deserialize<string[]>(Models) ?? [];

    /// <summary><see cref="Health"/> read back (a method, so the database model does not take it for a relation).</summary>
    public IReadOnlyList<ModelHealth> ReadHealth() => ModelHealth.FromJson(Health);

    public static string ToJson(IEnumerable<string> modelIds) => JsonSerializer.Serialize(modelIds.Order(StringComparer.Ordinal).ToArray());
}
