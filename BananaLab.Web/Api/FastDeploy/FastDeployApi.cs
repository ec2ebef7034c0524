using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Core.Webhooks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.FastDeploy;

/// <summary>
/// fastDeploy: <c>/sync</c>, <c>/async</c> and <c>/result</c> with JSON inputs (a list: one prediction per
/// element, in order) or FILE inputs (a map of file name to base64 image; predictions keyed by file name).
/// Failures answer <c>{"success": false, "reason": ...}</c>.
/// </summary>
public static class FastDeployApi
{
    public static IEndpointRouteBuilder MapFastDeployApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("fastDeploy").AllowAnonymous();
        group.MapPost("/sync", Sync);
        group.MapPost("/async", Async);
        group.MapPost("/result", Result);
        return routes;
    }

    public static Task<IResult> Sync(HttpRequest request, ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs,
        IOptions<ApiOptions> options, CancellationToken cancellationToken) => Handle(request, caller, async (body, userId) =>
        {
            var deadline = TimeSpan.FromSeconds(options.Value.SyncWaitSeconds);
            var submitted = await SubmitAsync(body, userId, tasks, options.Value, cancellationToken,
                call: SynchronousCalls.Identify(request, "fastdeploy", body.GetRawText(), deadline));
            if (submitted.Error is { } error) return error;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var view in submitted.Batch!.Tasks)
                await tasks.WaitAsync(view.Id, userId, deadline - clock.Elapsed, cancellationToken);
            var finished = await tasks.GetBatchAsync(submitted.Batch.BatchId!.Value, userId, cancellationToken);
            if (finished!.Any(t => !t.IsTerminal)) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
            return Results.Json(await ReplyAsync(finished!, submitted.FileInput, outputs, includeStatus: false, cancellationToken));
        });

    public static Task<IResult> Async(HttpRequest request, ClaimsPrincipal caller, TaskService tasks,
        IOptions<ApiOptions> options, CancellationToken cancellationToken) => Handle(request, caller, async (body, userId) =>
        {
            var submitted = await SubmitAsync(body, userId, tasks, options.Value, cancellationToken, GenerationFields.String(body, "webhook"));
            if (submitted.Error is { } error) return error;
            return Results.Json(new JsonObject { ["unique_id"] = submitted.Batch!.BatchId!.Value.ToString("N"), ["success"] = true });
        });

    public static Task<IResult> Result(HttpRequest request, ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs,
        CancellationToken cancellationToken) => Handle(request, caller, async (body, userId) =>
        {
            var uniqueId = GenerationFields.String(body, "unique_id");
            if (uniqueId is null || !Guid.TryParseExact(uniqueId, "N", out var batchId))
                return Failure(StatusCodes.Status400BadRequest, "unique_id is missing or malformed.");
            var batch = await tasks.GetBatchAsync(batchId, userId, cancellationToken);
            if (batch is null) return Failure(StatusCodes.Status404NotFound, "There is no request with this unique_id.");
            return Results.Json(await ReplyAsync(batch, batch[0].BatchKey is not null, outputs, includeStatus: true, cancellationToken));
        });

    private sealed record Submitted(SubmittedBatch? Batch, bool FileInput, IResult? Error);

    private static async Task<Submitted> SubmitAsync(JsonElement body, Guid userId, TaskService tasks, ApiOptions options,
        CancellationToken cancellationToken, string? webhook = null, SynchronousSubmission? call = null)
    {
        if (!body.TryGetProperty("data", out var data))
            return new(null, false, Failure(StatusCodes.Status400BadRequest, "'data' is required: a list of inputs or a map of file name to base64 image."));
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
                    return new(null, false, Failure(StatusCodes.Status400BadRequest, $"Item {requests.Count + 1} of 'data' must be a prompt string or an object."));
                var parsed = GenerationFields.Parse(fields, model, "fastdeploy");
                if (!parsed.Succeeded) return new(null, false, Failure(StatusCodes.Status400BadRequest, $"Item {requests.Count + 1}: {parsed.Error!.Message}"));
                requests.Add(parsed.Value!);
            }
        }
        else if (fileInput)
        {
            foreach (var file in data.EnumerateObject())
            {
                if (file.Value.ValueKind != JsonValueKind.String)
                    return new(null, true, Failure(StatusCodes.Status400BadRequest, $"'{file.Name}' must be a base64-encoded image."));
                var fields = Merge(defaults, new JsonObject { ["reference_image"] = file.Value.GetString() });
                var parsed = GenerationFields.Parse(fields, model, "fastdeploy");
                if (!parsed.Succeeded) return new(null, true, Failure(StatusCodes.Status400BadRequest, $"{file.Name}: {parsed.Error!.Message}"));
                requests.Add(parsed.Value! with { BatchKey = file.Name });
            }
        }
        else
        {
            return new(null, false, Failure(StatusCodes.Status400BadRequest, "'data' must be a list of inputs or a map of file name to base64 image."));
        }
        if (requests.Count is 0 or > 64)
            return new(null, fileInput, Failure(StatusCodes.Status400BadRequest, "'data' must hold between 1 and 64 inputs."));

        if (webhook is not null)
            requests = requests.Select(r => r with { WebhookUrl = webhook, WebhookFormat = WebhookFormat.FastDeploy }).ToList();
        var submitted = call is null
            ? await tasks.SubmitBatchAsync(userId, requests, cancellationToken, alwaysBatch: true)
            : await tasks.SubmitBatchSynchronousAsync(userId, requests, call, cancellationToken, alwaysBatch: true);
        return submitted.Succeeded
            ? new(submitted.Value, fileInput, null)
            : new(null, fileInput, Failure(ApiProblems.StatusFor(submitted.Error!.Kind), submitted.Error.Message));
    }

    /// <summary>The /sync body (with <c>status</c> for /result and the webhook) for a batch's current state.</summary>
    internal static async Task<JsonObject> ReplyAsync(IReadOnlyList<GenerationTask> batch, bool fileInput, TaskOutputs outputs,
        bool includeStatus, CancellationToken cancellationToken)
    {
        var list = new JsonArray();
        var byFile = new JsonObject();
        foreach (var task in batch)
        {
            JsonNode prediction = task.Status switch
            {
                GenerationTaskStatus.Succeeded => new JsonObject
                {
                    ["images"] = new JsonArray((await outputs.Base64Async(task, cancellationToken)).Select(i => (JsonNode?)i).ToArray()),
                    ["seed"] = task.Seed,
                    ["width"] = task.Width,
                    ["height"] = task.Height,
                    ["task_id"] = task.Id.ToString("N"),
                },
                GenerationTaskStatus.Queued or GenerationTaskStatus.Running => new JsonObject
                {
                    ["status"] = "processing", ["progress"] = task.ProgressPercent, ["task_id"] = task.Id.ToString("N"),
                },
                _ => new JsonObject { ["error"] = task.ErrorMessage ?? "failed", ["task_id"] = task.Id.ToString("N") },
            };
            if (fileInput) byFile[task.BatchKey ?? task.BatchIndex.ToString()] = prediction;
            else list.Add(prediction);
        }

        var pending = batch.Any(t => t.Status is GenerationTaskStatus.Queued or GenerationTaskStatus.Running);
        var failed = batch.Where(t => t.IsTerminal && t.Status != GenerationTaskStatus.Succeeded).ToList();
        var reply = new JsonObject { ["prediction"] = fileInput ? byFile : list, ["success"] = failed.Count == 0 };
        if (failed.Count > 0)
            reply["reason"] = string.Join("; ", failed.Select(t => $"{t.BatchKey ?? $"item {t.BatchIndex + 1}"}: {t.ErrorMessage}"));
        else if (pending && !includeStatus)
            reply["reason"] = "still processing; poll /result with the task ids";
        if (includeStatus) reply["status"] = pending ? "processing" : failed.Count == 0 ? "done" : "failed";
        return reply;
    }

    private static JsonElement Merge(JsonElement defaults, JsonObject item)
    {
        var merged = defaults.ValueKind == JsonValueKind.Object ? JsonObject.Create(defaults)!.DeepClone().AsObject() : new JsonObject();
        foreach (var (key, value) in item) merged[key] = value?.DeepClone();
        return JsonSerializer.SerializeToElement(merged);
    }

    private static async Task<IResult> Handle(HttpRequest request, ClaimsPrincipal caller, Func<JsonElement, Guid, Task<IResult>> handle)
    {
        if (caller.Identity?.IsAuthenticated != true)
            return Failure(StatusCodes.Status401Unauthorized, "Send a valid API key as 'Authorization: Bearer <key>'.");
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, request.HttpContext.RequestAborted);
        if (error is not null) return Failure(error.Status, error.Message);
        try
        {
            return await handle(body, caller.UserId());
        }
        catch (GenerationFields.FieldException e)
        {
            return Failure(StatusCodes.Status400BadRequest, e.Message);
        }
    }

    private static IResult Failure(int status, string reason) =>
        Results.Json(new JsonObject { ["success"] = false, ["reason"] = reason }, statusCode: status);
}
