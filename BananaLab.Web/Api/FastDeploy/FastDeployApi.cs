using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using BananaLab.Core.Errors;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Core.Webhooks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.FastDeploy;

/// <summary>
/// fastDeploy: <c>/sync</c>, <c>/async</c> and <c>/result</c> with JSON inputs (a list: one prediction per
/// element, in order) or FILE inputs (a map of file name to base64 image; predictions keyed by file name).
/// Failures answer <c>{"success": false, "reason": ...}</c> (<see cref="FastDeployFailure"/>).
/// </summary>
public static class FastDeployApi
{
    /// <summary>The dialect's one name: its tasks' source and its synchronous calls' key.</summary>
    public const string Name = "fastdeploy";

    /// <summary>The most inputs one request may hold.</summary>
    public const int MaxInputs = 64;

    public static IEndpointRouteBuilder MapFastDeployApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("fastDeploy").AllowAnonymous().WithMetadata(Errors, FastDeployExamples.Dialect)
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.TooLarge);
        group.MapPost("/sync", Sync).ProducesErrors(ErrorKind.InvalidField, ErrorKind.PaymentRequired, ErrorKind.Forbidden, ErrorKind.RefusedByPolicy);
        group.MapPost("/async", Async).ProducesErrors(ErrorKind.InvalidField, ErrorKind.PaymentRequired, ErrorKind.Forbidden, ErrorKind.RefusedByPolicy);
        group.MapPost("/result", Result).ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    /// <summary>
    /// Submits the inputs and waits up to <c>Api:SyncWaitSeconds</c> for every prediction; when the wait ends first, the answer
    /// carries the request's <c>unique_id</c> for <c>/result</c>.
    /// </summary>
    public static async Task<Results<Ok<FastDeployReply>, JsonHttpResult<FastDeployFailure>>> Sync(HttpRequest request, ClaimsPrincipal caller,
        TaskService tasks, TaskOutputs outputs, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync(request, caller);
        if (error is not null) return Failure(error);
        var userId = caller.UserId();
        var deadline = TimeSpan.FromSeconds(options.Value.SyncWaitSeconds);
        var submitted = await SubmitAsync(body, userId, tasks, options.Value, cancellationToken,
            call: SynchronousCalls.Identify(request, Name, body.GetRawText(), deadline));
        if (submitted.Error is not null) return Failure(submitted.Error);
        // The synchronous submission has waited for the batch already.
        var finished = submitted.Batch!.Tasks.Select(view => view.Task).ToList();
        var reply = await ReplyAsync(finished, submitted.FileInput, outputs, includeStatus: false, cancellationToken);
        if (finished.All(t => t.IsTerminal)) return TypedResults.Ok(reply);
        // The wait ended first: the batch's unique_id is what /result takes, as for /async.
        SynchronousCalls.DoNotRetry(request.HttpContext.Response);
        return TypedResults.Ok(reply with { UniqueId = submitted.Batch.BatchId?.ToString("N") });
    }

    /// <summary>Submits the inputs and answers their <c>unique_id</c> at once; <c>webhook</c> is called with the result.</summary>
    public static async Task<Results<Ok<FastDeployAccepted>, JsonHttpResult<FastDeployFailure>>> Async(HttpRequest request, ClaimsPrincipal caller,
        TaskService tasks, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync(request, caller);
        if (error is not null) return Failure(error);
        var submitted = await SubmitAsync(body, caller.UserId(), tasks, options.Value, cancellationToken, GenerationFields.String(body, "webhook"));
        if (submitted.Error is not null) return Failure(submitted.Error);
        return TypedResults.Ok(new FastDeployAccepted(submitted.Batch!.BatchId!.Value.ToString("N"), Success: true));
    }

    /// <summary>The predictions of an earlier <c>/async</c> request, with its <c>status</c>.</summary>
    public static async Task<Results<Ok<FastDeployReply>, JsonHttpResult<FastDeployFailure>>> Result(HttpRequest request, ClaimsPrincipal caller,
        TaskService tasks, TaskOutputs outputs, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync(request, caller, "unique_id");
        if (error is not null) return Failure(error);
        var uniqueId = GenerationFields.String(body, "unique_id");
        if (uniqueId is null || !Guid.TryParseExact(uniqueId, "N", out var batchId))
            return Failure(TaskErrors.InvalidRequest("unique_id is missing or malformed.", "unique_id"));
        var batch = await tasks.GetBatchAsync(batchId, caller.UserId(), cancellationToken);
        if (batch is null) return Failure(new TaskError(ErrorTypes.TaskNotFound, "There is no request with this unique_id."));
        return TypedResults.Ok(await ReplyAsync(batch, batch[0].BatchKey is not null, outputs, includeStatus: true, cancellationToken));
    }

    /// <summary>The fastDeploy envelope of an error: <c>{"success": false, "reason"}</c> with its kind's status.</summary>
    public static JsonHttpResult<FastDeployFailure> Failure(TaskError error) =>
        TypedResults.Json(new FastDeployFailure(Success: false, error.Message), statusCode: ApiProblems.StatusFor(error.Kind));

    /// <summary>Attached to the dialect's routes: errors raised outside the handlers are answered in its envelope too.</summary>
    public static ApiErrorWriter Errors { get; } = new FastDeployErrors();

    private sealed class FastDeployErrors : ApiErrorWriter
    {
        public override Type EnvelopeType => typeof(FastDeployFailure);
        public override IResult Write(TaskError error, HttpContext context) => Failure(error);
    }

    /// <summary>
    /// The body of a caller with a key, or why there is none to act on; with <paramref name="fields"/>, a member outside them is
    /// refused by name (/sync and /async check theirs once <c>data</c> is there, so a body without it is told that first).
    /// </summary>
    private static async Task<(JsonElement Body, TaskError? Error)> ReadAsync(HttpRequest request, ClaimsPrincipal caller, params string[] fields)
    {
        if (caller.Identity?.IsAuthenticated != true)
            return (default, new TaskError(ErrorTypes.Unauthorized, "Send a valid API key as 'Authorization: Bearer <key>'."));
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, request.HttpContext.RequestAborted);
        return error is null && fields.Length > 0 && GenerationFields.Unknown(body, fields) is { } unknown ? (body, unknown) : (body, error);
    }

    private sealed record Submitted(SubmittedBatch? Batch, bool FileInput, TaskError? Error);

    private static async Task<Submitted> SubmitAsync(JsonElement body, Guid userId, TaskService tasks, ApiOptions options,
        CancellationToken cancellationToken, string? webhook = null, SynchronousSubmission? call = null)
    {
        if (!body.TryGetProperty("data", out var data))
            return new(null, false, Invalid("'data' is required: a list of inputs or a map of file name to base64 image."));
        // /sync (a call that waits) calls no webhook, so it does not take one.
        if (GenerationFields.Unknown(body, call is not null ? ["data", "params", "model"] : ["data", "params", "model", "webhook"]) is { } unknown)
            return new(null, false, unknown);
        var defaults = body.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var model = GenerationFields.String(body, "model") ?? options.DefaultModel;

        var requests = new List<SubmitTaskRequest>();
        var fileInput = data.ValueKind == JsonValueKind.Object;
        if (data.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in data.EnumerateArray())
            {
                var fields = item.ValueKind == JsonValueKind.String
                    ? Merge(defaults, new JsonObject { ["prompt"] = item.GetString() })
                    : item.ValueKind == JsonValueKind.Object ? Merge(defaults, JsonObject.Create(item)!) : default;
                if (fields.ValueKind != JsonValueKind.Object)
                    return new(null, false, Invalid($"Item {requests.Count + 1} of 'data' must be a prompt string or an object."));
                var parsed = GenerationFields.Parse(fields, model, Name);
                if (!parsed.Succeeded) return new(null, false, parsed.Error! with { Message = $"Item {requests.Count + 1}: {parsed.Error.Message}" });
                requests.Add(parsed.Value!);
            }
        }
        else if (fileInput)
        {
            foreach (var file in data.EnumerateObject())
            {
                if (file.Value.ValueKind != JsonValueKind.String)
                    return new(null, true, Invalid($"'{file.Name}' must be a base64-encoded image."));
                var fields = Merge(defaults, new JsonObject { ["reference_image"] = file.Value.GetString() });
                var parsed = GenerationFields.Parse(fields, model, Name);
                if (!parsed.Succeeded) return new(null, true, parsed.Error! with { Message = $"{file.Name}: {parsed.Error.Message}" });
                requests.Add(parsed.Value! with { BatchKey = file.Name });
            }
        }
        else
        {
            return new(null, false, Invalid("'data' must be a list of inputs or a map of file name to base64 image."));
        }
        if (requests.Count is 0 or > MaxInputs)
            return new(null, fileInput, Invalid($"'data' must hold between 1 and {MaxInputs} inputs."));

        if (webhook is not null)
            requests = requests.Select(r => r with { WebhookUrl = webhook, WebhookFormat = WebhookFormat.FastDeploy }).ToList();
        var submitted = call is null
            ? await tasks.SubmitBatchAsync(userId, requests, cancellationToken, alwaysBatch: true)
            : await tasks.RunBatchSynchronousAsync(userId, requests, call, cancellationToken, alwaysBatch: true);
        return submitted.Succeeded ? new(submitted.Value, fileInput, null) : new(null, fileInput, submitted.Error);
    }

    private static TaskError Invalid(string message) => TaskErrors.InvalidRequest(message, "data");

    /// <summary>The /sync body (with <c>status</c> for /result and the webhook) for a batch's current state.</summary>
    internal static async Task<FastDeployReply> ReplyAsync(IReadOnlyList<TaskSnapshot> batch, bool fileInput, TaskOutputs outputs,
        bool includeStatus, CancellationToken cancellationToken)
    {
        var predictions = new List<FastDeployPrediction>(batch.Count);
        foreach (var task in batch)
            predictions.Add(task.Status switch
            {
                GenerationTaskStatus.Succeeded => new FastDeployPrediction
                {
                    Images = await outputs.Base64Async(task, cancellationToken), Seed = task.Seed, Width = task.Width, Height = task.Height,
                    TaskId = task.Id.ToString("N"),
                },
                GenerationTaskStatus.Queued or GenerationTaskStatus.Running => new FastDeployPrediction
                {
                    Status = "processing", Progress = task.ProgressPercent, TaskId = task.Id.ToString("N"),
                },
                _ => new FastDeployPrediction { Error = task.ErrorMessage ?? "failed", TaskId = task.Id.ToString("N") },
            });

        var pending = batch.Any(t => t.Status is GenerationTaskStatus.Queued or GenerationTaskStatus.Running);
        var failed = batch.Where(t => t.IsTerminal && t.Status != GenerationTaskStatus.Succeeded).ToList();
        var reason = failed.Count > 0 ? string.Join("; ", failed.Select(t => $"{t.BatchKey ?? $"item {t.BatchIndex + 1}"}: {t.ErrorMessage}"))
            : pending && !includeStatus ? "still processing; poll /result with its unique_id"
            : null;
        var status = includeStatus ? pending ? "processing" : failed.Count == 0 ? "done" : "failed" : null;
        FastDeployReply reply = fileInput
            ? new FastDeployFileReply(batch.Zip(predictions).ToDictionary(p => p.First.BatchKey ?? p.First.BatchIndex.ToString(), p => p.Second), failed.Count == 0)
            : new FastDeployListReply(predictions, failed.Count == 0);
        return reply with { Reason = reason, Status = status };
    }

    private static JsonElement Merge(JsonElement defaults, JsonObject item)
    {
        var merged = defaults.ValueKind == JsonValueKind.Object ? JsonObject.Create(defaults)!.DeepClone().AsObject() : new JsonObject();
        foreach (var (key, value) in item) merged[key] = value?.DeepClone();
        return JsonSerializer.SerializeToElement(merged);
    }
}
