using System.ComponentModel.DataAnnotations;
using BananaLab.Core.Catalog;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Queue;

public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Run the worker inside this process (the default); web-only nodes turn it off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Names this worker in leases and task logs; must be unique among running workers.</summary>
    [Required(ErrorMessage = "Worker:Name is required.")]
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>
    /// How many tasks of local models (those whose provider works on this machine's CPU or GPU, such as <c>onnx</c>) run at
    /// once, all such models together. A remote model runs its own <c>Models:id:Concurrency</c> (or its provider's default)
    /// beside them.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Worker:Concurrency must be between 1 and 64.")]
    public int Concurrency { get; set; } = 1;

    /// <summary>
    /// Most images one denoising run of a local model takes, from one task or several (adaptive batching across tasks):
    /// queued tasks of the same model and step count, text-to-image, join the oldest one's UNet calls up to this many
    /// images. 1 runs each task alone. A task with more images than this still runs, alone.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Worker:MaxBatchSize must be between 1 and 64.")]
    public int MaxBatchSize { get; set; } = 8;

    /// <summary>
    /// The longest a worker with a free slot waits for more tasks to join a batch. The wait adapts to the traffic: none when
    /// tasks arrive further apart than this, none while a full batch is already queued; up to this while they stream in.
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Worker:MaxBatchDelayMs must be between 0 and 10000.")]
    public int MaxBatchDelayMs { get; set; } = 20;

    /// <summary>Provider failures in a row (5xx, unreachable, 429, timeout) that open a model's circuit.</summary>
    [Range(1, 1000, ErrorMessage = "Worker:CircuitFailures must be between 1 and 1000.")]
    public int CircuitFailures { get; set; } = 5;

    /// <summary>How long an open circuit keeps a model's tasks in the queue before tasks are sent to its provider again.</summary>
    [Range(1, 86_400, ErrorMessage = "Worker:CircuitOpenSeconds must be between 1 and 86400.")]
    public int CircuitOpenSeconds { get; set; } = 30;

    /// <summary>
    /// The catalog models this worker runs (a GPU box the heavy ones, a CPU box the small ones). Empty:
    /// every model whose provider this process has a generator for.
    /// </summary>
    public List<string> Models { get; set; } = [];

    /// <summary>
    /// On shutdown, how long running tasks may take to finish before they are stopped and handed back
    /// to the queue for another worker. New tasks are not claimed once shutdown starts.
    /// </summary>
    [Range(0, 3600, ErrorMessage = "Worker:ShutdownGraceSeconds must be between 0 and 3600.")]
    public int ShutdownGraceSeconds { get; set; } = 20;

    [Range(1, 20, ErrorMessage = "Worker:MaxAttempts must be between 1 and 20.")]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How long a claim lasts without renewal; a crashed worker's tasks return to the queue after it.</summary>
    [Range(1, 3600, ErrorMessage = "Worker:LeaseSeconds must be between 1 and 3600.")]
    public int LeaseSeconds { get; set; } = 30;

    [Range(10, 60_000, ErrorMessage = "Worker:PollIntervalMs must be between 10 and 60000.")]
    public int PollIntervalMs { get; set; } = 2000;

    [Range(10, 3_600_000, ErrorMessage = "Worker:RetryBaseDelayMs must be between 10 and 3600000.")]
    public int RetryBaseDelayMs { get; set; } = 2000;

    [Range(1, 3600, ErrorMessage = "Worker:RecoveryIntervalSeconds must be between 1 and 3600.")]
    public int RecoveryIntervalSeconds { get; set; } = 15;

    /// <summary>
    /// How long a model may go without a running worker that serves it before its queued tasks fail
    /// (<c>generator_unavailable</c>) and release their credits. Workers check every <see cref="RecoveryIntervalSeconds"/>;
    /// a worker's registration (the models it serves) lasts three of those intervals, at least 30 seconds, after its last renewal.
    /// </summary>
    [Range(1, 604_800, ErrorMessage = "Worker:UnservedGraceSeconds must be between 1 and 604800 (a week).")]
    public int UnservedGraceSeconds { get; set; } = 600;

    /// <summary>How long a worker's registration counts after its last renewal: three checks, at least 30 seconds.</summary>
    public TimeSpan RegistrationLifetime => TimeSpan.FromSeconds(Math.Max(30, 3 * RecoveryIntervalSeconds));

    /// <summary>How often a running task's progress is written to the database and its lease checked.</summary>
    [Range(50, 60_000, ErrorMessage = "Worker:HeartbeatMs must be between 50 and 60000.")]
    public int HeartbeatMs { get; set; } = 500;

    /// <summary>
    /// A worker process serves its Prometheus metrics (<c>/metrics</c>) and its probes (<c>/livez</c>, <c>/readyz</c>)
    /// on this port; 0 = none. Web nodes serve theirs on their own port.
    /// </summary>
    [Range(0, 65535, ErrorMessage = "Worker:MetricsPort must be between 0 and 65535.")]
    public int MetricsPort { get; set; }

    /// <summary>
    /// The address <see cref="MetricsPort"/> listens on: loopback by default, so only this machine can scrape it.
    /// Set the machine's own address (or 0.0.0.0 / :: for all) where Prometheus or a probe runs elsewhere.
    /// </summary>
    public string MetricsBindAddress { get; set; } = "127.0.0.1";

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
}

/// <summary>Every model named in <c>Worker:Models</c> must be in the catalog: a typo would leave its tasks queued forever.</summary>
public sealed class WorkerOptionsValidator(IOptions<ModelCatalogOptions> catalog) : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var unknown = options.Models.Where(id => !catalog.Value.Models.Keys.Contains(id.Trim(), StringComparer.OrdinalIgnoreCase)).ToList();
        return unknown.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Worker:Models names models that are not in the catalog: {string.Join(", ", unknown)}.");
    }
}
