using System.Text.Json.Serialization;

namespace BananaLab.Web.Api.Sessions;

/// <summary>The answer of <c>/login</c>: the session key, valid for <c>Sessions:LifetimeMinutes</c>.</summary>
public sealed record SessionLogin([property: JsonPropertyName("client_session_auth_key")] string ClientSessionAuthKey);

/// <summary>
/// The answer of <c>/endpoint</c>: <c>success</c> and the <c>job_id</c>, then, with <c>wait_for_result</c>, the job's state
/// (<see cref="SessionJobState"/>) or its result (<see cref="SessionJobDone"/>).
/// </summary>
[JsonDerivedType(typeof(SessionJobAccepted))]
[JsonDerivedType(typeof(SessionJobState))]
[JsonDerivedType(typeof(SessionJobDone))]
public abstract record SessionJobReply(
    [property: JsonPropertyName("success"), JsonPropertyOrder(-2)] bool Success,
    [property: JsonPropertyName("job_id"), JsonPropertyOrder(-1)] string JobId);

/// <summary>A job submitted without waiting: poll <c>/endpoint/progress</c> with its <c>job_id</c>.</summary>
public sealed record SessionJobAccepted(bool Success, string JobId) : SessionJobReply(Success, JobId);

/// <summary>
/// A job that had not succeeded when the wait ended: <c>job_state</c> (<c>processing</c>, <c>failed</c>, <c>canceled</c>) and a
/// sentence; <c>success</c> is false once it ended without images.
/// </summary>
public sealed record SessionJobState(
    bool Success, string JobId,
    [property: JsonPropertyName("job_state")] string JobState,
    [property: JsonPropertyName("message")] string Message) : SessionJobReply(Success, JobId);

/// <summary>A job that succeeded within the wait: its result (as <see cref="SessionJobResult"/>) with its <c>seed</c> and <c>prompt</c>.</summary>
public sealed record SessionJobDone(
    bool Success, string JobId,
    [property: JsonPropertyName("auth")] string? Auth,
    [property: JsonPropertyName("compute_duration")] double? ComputeDuration,
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("total_duration")] double? TotalDuration,
    [property: JsonPropertyName("worker_interface_version")] string WorkerInterfaceVersion,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("prompt")] string Prompt) : SessionJobReply(Success, JobId);

/// <summary>
/// A finished job's result: the worker that ran it (<c>auth</c>), <c>compute_duration</c> and <c>total_duration</c> in seconds,
/// the base64 <c>images</c>, a one-line <c>text</c> and the interface version.
/// </summary>
public sealed record SessionJobResult(
    [property: JsonPropertyName("auth")] string? Auth,
    [property: JsonPropertyName("compute_duration")] double? ComputeDuration,
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("total_duration")] double? TotalDuration,
    [property: JsonPropertyName("worker_interface_version")] string WorkerInterfaceVersion);

/// <summary>
/// The answer of <c>/endpoint/progress</c>: <c>job_state</c> (<c>processing</c>, <c>done</c>, <c>failed</c>, <c>canceled</c>), the
/// <c>progress</c>, <c>success</c> (false once it failed), then <c>job_result</c> when done, or <c>message</c> and <c>error_code</c>
/// (see the README's "Why a task failed") when it ended without images.
/// </summary>
public sealed record SessionProgressReply(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("job_state")] string JobState,
    [property: JsonPropertyName("progress")] SessionProgress Progress,
    [property: JsonPropertyName("success")] bool Success)
{
    [JsonPropertyName("job_result"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SessionJobResult? JobResult { get; init; }

    [JsonPropertyName("message"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; init; }

    [JsonPropertyName("error_code"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ErrorCode { get; init; }
}

/// <summary>
/// A job's progress: <c>progress</c> 0–100 (weighted by phase, 100 only when done), <c>phase</c> (the native API's names),
/// <c>eta_seconds</c> (null when unknown or finished), <c>queue_position</c> (0 once running), and <c>progress_data</c>: a live
/// preview while it runs, the result's images once done.
/// </summary>
public sealed record SessionProgress(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("progress")] int Progress,
    [property: JsonPropertyName("phase")] string Phase,
    [property: JsonPropertyName("eta_seconds")] int? EtaSeconds,
    [property: JsonPropertyName("queue_position")] int QueuePosition)
{
    [JsonPropertyName("progress_data"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SessionProgressData? ProgressData { get; init; }
}

/// <summary>Base64 PNG images (a preview, or the results) and a one-line description.</summary>
public sealed record SessionProgressData(
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("text")] string Text);

/// <summary>The session interface's error envelope: <c>success</c> false, the reason as <c>error</c> and <c>message</c>, and its <c>code</c>.</summary>
public sealed record SessionFailure(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("code")] string Code);
