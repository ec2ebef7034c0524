using System.Collections.Concurrent;
using BananaLab.Core.Cluster;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Queue;

/// <summary>
/// A circuit breaker per model, and the health this worker reports for each (<see cref="ModelHealth"/>). A provider that
/// fails <c>Worker:CircuitFailures</c> runs in a row with a provider failure (<c>provider_error</c>,
/// <c>provider_rate_limited</c>, <c>provider_timeout</c>) opens the model's circuit: the worker claims none of its tasks for
/// <c>Worker:CircuitOpenSeconds</c>, then lets tasks through again; the first success closes it, another failure opens it
/// again. A refusal of our credentials (<c>provider_auth_failed</c>) switches the model off until the settings change (a
/// restart) or an admin retries it (<see cref="RetryTopic"/>, heard from any node). Tasks wait in the queue meanwhile;
/// none is failed for it, and a model switched off everywhere is refused at submission (<see cref="ModelAvailability"/>).
/// </summary>
public sealed class ModelCircuits : IModelHealthSource
{
    /// <summary>Cluster topic: an admin asks every worker to close a model's circuit (message: the model id).</summary>
    public const string RetryTopic = "models:retry";

    private static readonly HashSet<string> ProviderFailures =
        [GenerationErrors.ProviderError, GenerationErrors.ProviderRateLimited, TaskErrors.ProviderTimeout];

    private readonly ConcurrentDictionary<string, State> _models = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _clock;
    private readonly WorkerOptions _options;
    private readonly ILogger<ModelCircuits> _logger;

    public ModelCircuits(TimeProvider clock, IOptions<WorkerOptions> options, IClusterBroadcast broadcast, ILogger<ModelCircuits> logger)
    {
        (_clock, _options, _logger) = (clock, options.Value, logger);
        broadcast.Subscribe(RetryTopic, modelId => Close(modelId));
    }

    /// <summary>Whether tasks of the model may be claimed now: its circuit is closed, or open with its time over.</summary>
    public bool AllowsClaim(string modelId)
    {
        if (!_models.TryGetValue(modelId, out var state)) return true;
        lock (state)
            return state.Circuit switch
            {
                CircuitState.Off => false,
                CircuitState.Open => _clock.GetUtcNow().UtcDateTime >= state.OpenUntil,
                _ => true,
            };
    }

    /// <summary>A task of the model starts running here.</summary>
    public void Started(string modelId)
    {
        var state = For(modelId);
        lock (state) state.InFlight++;
    }

    /// <summary>A task of the model produced its images.</summary>
    public void Succeeded(string modelId)
    {
        var state = For(modelId);
        lock (state)
        {
            state.InFlight--;
            state.LastSuccessAt = _clock.GetUtcNow().UtcDateTime;
            state.Failures = 0;
            if (state.Circuit == CircuitState.Open) _logger.LogInformation("Model {Model}: a task succeeded; its circuit is closed", modelId);
            if (state.Circuit != CircuitState.Off) state.Circuit = CircuitState.Closed;
        }
    }

    /// <summary>A task of the model left this worker without a verdict on its provider (handed back at shutdown, its lease lost).</summary>
    public void Left(string modelId)
    {
        var state = For(modelId);
        lock (state) state.InFlight--;
    }

    /// <summary>A run of the model ended without images, with a stored code and a readable (secret-free) message.</summary>
    public void Failed(string modelId, string code, string message)
    {
        var state = For(modelId);
        var now = _clock.GetUtcNow().UtcDateTime;
        lock (state)
        {
            state.InFlight--;
            state.LastErrorAt = now;
            state.LastErrorCode = code;
            state.LastError = message;
            if (code == GenerationErrors.ProviderAuthFailed)
            {
                state.Circuit = CircuitState.Off;
                _logger.LogError("Model {Model} switched off: its provider refused our credentials ({Code}); fix Models:{Model}:ApiKey and " +
                                 "restart, or retry it from the admin models page", modelId, code, modelId);
                return;
            }
            if (!ProviderFailures.Contains(code))
            {
                // Not the provider's fault (a canceled task, a refused prompt, a bad reference image): the circuit stays as it is.
                return;
            }
            state.Failures++;
            if (state.Failures < _options.CircuitFailures || state.Circuit == CircuitState.Off) return;
            state.Circuit = CircuitState.Open;
            state.OpenUntil = now + TimeSpan.FromSeconds(_options.CircuitOpenSeconds);
            _logger.LogWarning("Model {Model}: {Failures} provider failures in a row (last {Code}); no task goes to it for {Seconds} s",
                modelId, state.Failures, code, _options.CircuitOpenSeconds);
        }
    }

    /// <summary>Closes the model's circuit, as an admin's retry does; false when it was not open or off here.</summary>
    public bool Close(string modelId)
    {
        if (!_models.TryGetValue(modelId, out var state)) return false;
        lock (state)
        {
            if (state.Circuit == CircuitState.Closed) return false;
            (state.Circuit, state.Failures, state.OpenUntil) = (CircuitState.Closed, 0, null);
        }
        _logger.LogInformation("Model {Model}: circuit closed by an admin's retry", modelId);
        return true;
    }

    public IReadOnlyList<ModelHealth> Current() =>
        _models.Select(pair =>
        {
            lock (pair.Value)
                return new ModelHealth(pair.Key, pair.Value.InFlight, pair.Value.LastSuccessAt, pair.Value.LastErrorAt, pair.Value.LastErrorCode,
                    pair.Value.LastError, pair.Value.Circuit, pair.Value.OpenUntil);
        }).ToList();

    private State For(string modelId) => _models.GetOrAdd(modelId, _ => new State());

    private sealed class State
    {
        public int InFlight;
        public int Failures;
        public DateTime? LastSuccessAt;
        public DateTime? LastErrorAt;
        public string? LastErrorCode;
        public string? LastError;
        public CircuitState Circuit;
        public DateTime? OpenUntil;
    }
}
