using System.Text.Json;
using System.Text.Json.Serialization;

namespace BananaLab.Core.Workers;

/// <summary>Whether a worker sends tasks of a model to its provider.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CircuitState>))]
public enum CircuitState
{
    /// <summary>Tasks go to the provider.</summary>
    Closed,
    /// <summary>The provider kept failing: no task is claimed until <see cref="ModelHealth.OpenUntil"/>, then one tries.</summary>
    Open,
    /// <summary>The provider refused our credentials: switched off until the settings change (a restart) or an admin retries.</summary>
    Off,
}

/// <summary>
/// How one model fares on one worker: tasks in flight, the last success and the last error (code and readable message,
/// never a secret), and its circuit (<see cref="CircuitState"/>). Workers publish theirs with their registration
/// (<see cref="WorkerRegistration.Health"/>); <c>/readyz</c>, the admin models page and <see cref="ModelAvailability"/> read it.
/// </summary>
public sealed record ModelHealth(
    string ModelId,
    int InFlight,
    DateTime? LastSuccessAt,
    DateTime? LastErrorAt,
    string? LastErrorCode,
    string? LastError,
    CircuitState Circuit,
    DateTime? OpenUntil)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string ToJson(IEnumerable<ModelHealth> models) => JsonSerializer.Serialize(models.OrderBy(m => m.ModelId, StringComparer.Ordinal), Json);

    public static IReadOnlyList<ModelHealth> FromJson(string? json) =>
        string.IsNullOrWhiteSpace(json) ? [] : JsonSerializer.Deserialize<ModelHealth[]>(json, Json) ?? [];
}

/// <summary>The health of the models this process's own worker runs; none in a process without a worker.</summary>
public interface IModelHealthSource
{
    IReadOnlyList<ModelHealth> Current();
}

/// <summary>A process without a worker: nothing to report.</summary>
public sealed class NoModelHealth : IModelHealthSource
{
    public IReadOnlyList<ModelHealth> Current() => [];
}
