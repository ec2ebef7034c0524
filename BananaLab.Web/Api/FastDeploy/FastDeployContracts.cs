using System.Text.Json.Serialization;

namespace BananaLab.Web.Api.FastDeploy;

/// <summary>
/// The answer of <c>/sync</c> and <c>/result</c> (and the <c>/async</c> webhook's body): the predictions, <c>success</c>
/// (false when any input failed), a <c>reason</c> naming each failed input (or saying the request is still processing),
/// <c>status</c> (<c>processing</c>, <c>done</c> or <c>failed</c>; /result and the webhook only) and <c>unique_id</c> (the webhook, and a <c>/sync</c> whose wait ended before the predictions).
/// JSON inputs get a list of predictions (<see cref="FastDeployListReply"/>), file inputs a map by file name
/// (<see cref="FastDeployFileReply"/>).
/// </summary>
[JsonDerivedType(typeof(FastDeployListReply))]
[JsonDerivedType(typeof(FastDeployFileReply))]
public abstract record FastDeployReply([property: JsonPropertyName("success"), JsonPropertyOrder(1)] bool Success)
{
    [JsonPropertyName("reason"), JsonPropertyOrder(2), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }

    [JsonPropertyName("status"), JsonPropertyOrder(3), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Status { get; init; }

    /// <summary>The request's id for <c>/result</c>: in the webhook's body, and in a <c>/sync</c> answer given while it still runs.</summary>
    [JsonPropertyName("unique_id"), JsonPropertyOrder(4), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? UniqueId { get; init; }
}

/// <summary>The predictions of JSON inputs, one per element of <c>data</c>, in order.</summary>
public sealed record FastDeployListReply(
    [property: JsonPropertyName("prediction")] IReadOnlyList<FastDeployPrediction> Prediction, bool Success) : FastDeployReply(Success);

/// <summary>The predictions of file inputs, keyed by the file names of <c>data</c>.</summary>
public sealed record FastDeployFileReply(
    [property: JsonPropertyName("prediction")] IReadOnlyDictionary<string, FastDeployPrediction> Prediction, bool Success) : FastDeployReply(Success);

/// <summary>
/// One input's prediction: its base64 <c>images</c>, <c>seed</c>, <c>width</c> and <c>height</c> (pixels) once done;
/// <c>status</c> <c>processing</c> with <c>progress</c> (0–100) while it runs; <c>error</c> when it failed. Always its <c>task_id</c>.
/// </summary>
public sealed record FastDeployPrediction
{
    [JsonPropertyName("images"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Images { get; init; }

    [JsonPropertyName("seed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Seed { get; init; }

    [JsonPropertyName("width"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Width { get; init; }

    [JsonPropertyName("height"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Height { get; init; }

    [JsonPropertyName("status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Status { get; init; }

    [JsonPropertyName("progress"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Progress { get; init; }

    [JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    [JsonPropertyName("task_id")]
    public required string TaskId { get; init; }
}

/// <summary>The answer of <c>/async</c>: the request's <c>unique_id</c> for <c>/result</c>.</summary>
public sealed record FastDeployAccepted(
    [property: JsonPropertyName("unique_id")] string UniqueId,
    [property: JsonPropertyName("success")] bool Success);

/// <summary>fastDeploy's error envelope: <c>{"success": false, "reason": "..."}</c>.</summary>
public sealed record FastDeployFailure(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("reason")] string Reason);
