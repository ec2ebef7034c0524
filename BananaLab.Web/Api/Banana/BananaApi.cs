using System.Text.Json;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Files;
using BananaLab.Web.RateLimits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Banana;

/// <summary>
/// Banana REST API v4 (<c>/start/v4</c>, <c>/check/v4</c>). Its contract: never an HTTP 500; every failure
/// is a 200 whose <c>message</c> contains "error" (<see cref="BananaReply"/> with <c>finished</c> true).
/// </summary>
public static class BananaApi
{
    /// <summary>The dialect's one name: its tasks' source and its synchronous calls' key.</summary>
    public const string Name = "banana";

    public const string ApiVersion = "BananaLab v4 (Nov 14 2021 compatible)";

    /// <summary>Banana's own settings (<see cref="BananaOptions"/>), validated at start.</summary>
    public static IHostApplicationBuilder AddBananaApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BananaOptions>().Bind(builder.Configuration.GetSection(BananaOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapBananaApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Banana v4").AllowAnonymous().WithMetadata(Errors, BananaExamples.Dialect, new KeyInBody(["apiKey"]))
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.TooLarge, ErrorKind.NotFound);
        group.MapPost("/start/v4", Start)
            .ProducesErrors(ErrorKind.InvalidField, ErrorKind.PaymentRequired, ErrorKind.Forbidden, ErrorKind.RefusedByPolicy);
        group.MapPost("/check/v4", Check);
        return routes;
    }

    /// <summary>Starts a call and waits up to <c>Api:BananaStartWaitSeconds</c> for its result, unless <c>startOnly</c>.</summary>
    public static async Task<Ok<BananaReply>> Start(HttpRequest request, TaskService tasks, ApiKeyService keys, TaskOutputs outputs,
        SignedImageUrls urls, IOptions<BananaOptions> options, CancellationToken cancellationToken)
    {
        var (body, caller, error) = await ReadAsync(request, keys, StartFields, cancellationToken);
        if (error is not null) return Failure(error, request.HttpContext);
        var modelKey = GenerationFields.String(body, "modelKey");
        if (string.IsNullOrWhiteSpace(modelKey)) return Failure(new TaskError(ErrorTypes.ModelRequired, "modelKey is required"), request.HttpContext);
        if (!body.TryGetProperty("modelInputs", out var inputs) || inputs.ValueKind != JsonValueKind.Object)
            return Failure(TaskErrors.InvalidRequest("modelInputs is required and must be an object", "modelInputs"), request.HttpContext);
        var startOnly = GenerationFields.Bool(body, "startOnly") ?? false;

        var parsed = GenerationFields.Parse(inputs, modelKey, Name);
        if (!parsed.Succeeded) return Failure(parsed.Error!, request.HttpContext);
        var wait = startOnly ? TimeSpan.Zero : TimeSpan.FromSeconds(options.Value.BananaStartWaitSeconds);
        var submitted = wait > TimeSpan.Zero
            ? await tasks.RunSynchronousAsync(caller.User.Id, parsed.Value! with { ModelId = modelKey },
                SynchronousCalls.Identify(request, Name, body.GetRawText(), wait), cancellationToken)
            : await tasks.SubmitAsync(caller.User.Id, parsed.Value! with { ModelId = modelKey }, cancellationToken);
        if (!submitted.Succeeded) return Failure(submitted.Error!, request.HttpContext);

        var call = BananaCall.Of(request.HttpContext);
        call.CallId = CallId(submitted.Value!.Id);
        // A synchronous start has waited already; a startOnly one answers the task as it is now.
        var view = wait > TimeSpan.Zero ? submitted.Value : await tasks.WaitAsync(submitted.Value.Id, caller.User.Id, wait, cancellationToken);
        if (wait > TimeSpan.Zero && !view!.Task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
        return await TaskStateAsync(call, view!, outputs, urls, request, cancellationToken);
    }

    /// <summary>A call's state; with <c>longPoll</c>, waits up to <c>Api:BananaCheckWaitSeconds</c> for it to finish.</summary>
    public static async Task<Ok<BananaReply>> Check(HttpRequest request, TaskService tasks, ApiKeyService keys, TaskOutputs outputs,
        SignedImageUrls urls, IOptions<BananaOptions> options, CancellationToken cancellationToken)
    {
        var (body, caller, error) = await ReadAsync(request, keys, CheckFields, cancellationToken);
        if (error is not null) return Failure(error, request.HttpContext);
        var callId = GenerationFields.String(body, "callID");
        if (!TryParseCallId(callId, out var taskId)) return Failure(TaskErrors.InvalidRequest("callID is missing or malformed", "callID"), request.HttpContext);
        var call = BananaCall.Of(request.HttpContext);
        call.CallId = callId;
        var wait = GenerationFields.Bool(body, "longPoll") == true ? TimeSpan.FromSeconds(options.Value.BananaCheckWaitSeconds) : TimeSpan.Zero;
        var view = await tasks.WaitAsync(taskId, caller.User.Id, wait, cancellationToken);
        if (view is null) return Failure(new TaskError(ErrorTypes.TaskNotFound, "no task with this callID"), request.HttpContext);
        return await TaskStateAsync(call, view, outputs, urls, request, cancellationToken);
    }

    /// <summary>The members of a <c>/start/v4</c> body, as the seed document and Banana's Node client (4.0.0) send them.</summary>
    private static readonly string[] StartFields = ["id", "created", "apiKey", "modelKey", "startOnly", "modelInputs"];

    /// <summary>The members of a <c>/check/v4</c> body.</summary>
    private static readonly string[] CheckFields = ["id", "created", "apiKey", "longPoll", "callID"];

    public static string CallId(Guid taskId) => "call_" + taskId.ToString("N");

    /// <summary>Banana's envelope of an error: a 200, <c>finished</c>, and the reason in <c>message</c> after "error: ".</summary>
    public static Ok<BananaReply> Failure(TaskError error, HttpContext context) =>
        TypedResults.Ok(BananaCall.Of(context).Reply("error: " + error.Message, finished: true));

    /// <summary>Attached to the dialect's routes: whatever goes wrong outside the handlers is a 200 with "error" too.</summary>
    public static ApiErrorWriter Errors { get; } = new BananaErrors();

    private sealed class BananaErrors : ApiErrorWriter
    {
        public override Type EnvelopeType => typeof(BananaReply);
        public override int StatusFor(ErrorKind kind) => StatusCodes.Status200OK;
        public override IResult Write(TaskError error, HttpContext context) => Failure(error, context);
    }

    private static TaskError Unauthorized() => new(ErrorTypes.Unauthorized, "apiKey is missing, unknown or revoked");

    private static bool TryParseCallId(string? callId, out Guid taskId)
    {
        taskId = Guid.Empty;
        return callId is not null && callId.StartsWith("call_", StringComparison.Ordinal) && Guid.TryParseExact(callId[5..], "N", out taskId);
    }

    /// <summary>
    /// The body and the caller its <c>apiKey</c> names; the call's <c>id</c> from it, a string or a number, is echoed as sent in
    /// every answer, errors included. A member the endpoint does not take (<paramref name="fields"/>) is refused by name.
    /// </summary>
    private static async Task<(JsonElement Body, ApiKeyService.Authenticated Caller, TaskError? Error)> ReadAsync(HttpRequest request, ApiKeyService keys,
        string[] fields, CancellationToken cancellationToken)
    {
        var call = BananaCall.Of(request.HttpContext);
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, cancellationToken);
        if (error is not null) return (body, null!, error);
        if (body.TryGetProperty("id", out var id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number) call.Id = id.Clone();
        else if (id.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
            return (body, null!, TaskErrors.InvalidRequest("id must be a string or a number", "id"));
        if (GenerationFields.Unknown(body, fields) is { } unknown) return (body, null!, unknown);
        var caller = await keys.AuthenticateAsync(GenerationFields.String(body, "apiKey"), cancellationToken);
        return caller is null ? (body, null!, Unauthorized()) : (body, caller, null);
    }

    private static async Task<Ok<BananaReply>> TaskStateAsync(BananaCall call, TaskView view, TaskOutputs outputs, SignedImageUrls urls,
        HttpRequest request, CancellationToken cancellationToken)
    {
        var task = view.Task;
        switch (task.Status)
        {
            case GenerationTaskStatus.Succeeded:
                var images = await outputs.Base64Async(task, cancellationToken);
                var modelOutputs = task.Images.OrderBy(i => i.Index).Select(image => new BananaModelOutput(images[image.Index],
                    urls.For(request, task.Id, image.Index), image.Width, image.Height, task.Seed + image.Index, image.Index, image.ContentType)).ToList();
                return TypedResults.Ok(call.Reply("success", finished: true) with { ModelOutputs = modelOutputs });
            case GenerationTaskStatus.Queued or GenerationTaskStatus.Running:
                return TypedResults.Ok(call.Reply(TaskOutputs.Describe(view), finished: false));
            default:
                return TypedResults.Ok(call.Reply("error: " + TaskOutputs.Describe(view), finished: true));
        }
    }

    /// <summary>
    /// What one Banana call has said about itself so far (its <c>id</c>, its <c>callID</c>, when it started), kept as a request
    /// feature so that an error answered outside the handler (<see cref="Errors"/>) still echoes them.
    /// </summary>
    private sealed class BananaCall
    {
        /// <summary>The caller's <c>id</c> as sent, or a fresh UUID.</summary>
        public JsonElement Id { get; set; } = JsonSerializer.SerializeToElement(Guid.NewGuid().ToString());
        public string? CallId { get; set; }
        public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        public static BananaCall Of(HttpContext context)
        {
            if (context.Features.Get<BananaCall>() is { } call) return call;
            context.Features.Set(call = new BananaCall());
            return call;
        }

        public BananaReply Reply(string message, bool finished) => new(Id, message, Created, ApiVersion, CallId, finished, []);
    }
}
