using System.Text.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Errors;
using BananaLab.Core.Generation;
using BananaLab.Core.Sessions;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.RateLimits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Sessions;

/// <summary>
/// The session interface: <c>/login</c> trades an API key for a session key bound to one model,
/// <c>/endpoint</c> submits a job, <c>/endpoint/progress</c> reports its state, previews and result (its <c>progress</c>
/// object carries <c>progress</c> 0–100, <c>phase</c> as the native API names it, <c>eta_seconds</c> and <c>queue_position</c>).
/// Failures answer <c>{"success": false, "error", "message", "code"}</c> (<see cref="SessionFailure"/>).
/// </summary>
public static class SessionApi
{
    /// <summary>The dialect's one name: its tasks' source and its synchronous calls' key.</summary>
    public const string Name = "session";

    public const string WorkerInterfaceVersion = "API-Worker-Interface 0.3.5";

    public static IEndpointRouteBuilder MapSessionApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Session interface").AllowAnonymous().WithMetadata(Errors, SessionExamples.Dialect, new KeyInBody(["api_key"], SessionKeyField: "client_session_auth_key"))
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.TooLarge, ErrorKind.Unavailable);
        group.MapPost("/login", Login).ProducesErrors(ErrorKind.InvalidField);
        group.MapPost("/endpoint", Submit)
            .ProducesErrors(ErrorKind.InvalidField, ErrorKind.PaymentRequired, ErrorKind.Forbidden, ErrorKind.RefusedByPolicy);
        group.MapPost("/endpoint/progress", Progress).ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    /// <summary>Trades the API key (bearer header or <c>api_key</c>) for a session key bound to the model <c>endpoint_name</c>.</summary>
    public static async Task<Results<Ok<SessionLogin>, JsonHttpResult<SessionFailure>>> Login(HttpRequest request, ApiKeyService keys,
        ClientSessionService sessions, ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync(request);
        if (error is not null) return Failure(error);
        var header = request.Headers.Authorization.ToString();
        var apiKey = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..] : GenerationFields.String(body, "api_key");
        var caller = await keys.AuthenticateAsync(apiKey, cancellationToken);
        if (caller is null)
            return Failure(new TaskError(ErrorTypes.Unauthorized, "Send a valid API key as 'Authorization: Bearer <key>' or 'api_key'."));
        if (GenerationFields.Unknown(body, ["api_key", "endpoint_name", "version"]) is { } unknown) return Failure(unknown);
        var model = catalog.Find(GenerationFields.String(body, "endpoint_name"));
        if (model is null)
            return Failure(new TaskError(ErrorTypes.ModelNotFound, "endpoint_name must name one of the models in /api/v1/models.") { Field = "endpoint_name" });
        var (_, key) = await sessions.CreateAsync(caller.User.Id, caller.Key.Id, model.Id, GenerationFields.String(body, "version"), cancellationToken);
        return TypedResults.Ok(new SessionLogin(key));
    }

    /// <summary>Submits a job on the session's model; with <c>wait_for_result</c>, waits up to <c>Api:SyncWaitSeconds</c> for it.</summary>
    public static async Task<Results<Ok<SessionJobReply>, JsonHttpResult<SessionFailure>>> Submit(HttpRequest request,
        ClientSessionService sessions, TaskService tasks, TaskOutputs outputs, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync(request);
        if (error is not null) return Failure(error);
        var session = await sessions.FindAsync(GenerationFields.String(body, "client_session_auth_key"), cancellationToken);
        if (session is null) return Failure(SessionExpired());
        var parsed = GenerationFields.Parse(body, session.ModelId, Name, "client_session_auth_key", "wait_for_result");
        if (!parsed.Succeeded) return Failure(parsed.Error!);
        var wait = TimeSpan.FromSeconds(options.Value.SyncWaitSeconds);
        var waits = GenerationFields.Bool(body, "wait_for_result") == true;
        var submitted = waits
            ? await tasks.RunSynchronousAsync(session.UserId, parsed.Value! with { ModelId = session.ModelId },
                SynchronousCalls.Identify(request, Name, body.GetRawText(), wait), cancellationToken)
            : await tasks.SubmitAsync(session.UserId, parsed.Value! with { ModelId = session.ModelId }, cancellationToken);
        if (!submitted.Succeeded) return Failure(submitted.Error!);

        var jobId = JobId(submitted.Value!.Id);
        if (!waits) return TypedResults.Ok<SessionJobReply>(new SessionJobAccepted(Success: true, jobId));

        var view = submitted.Value;
        if (!view.Task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
        if (view.Task.Status != GenerationTaskStatus.Succeeded)
            return TypedResults.Ok<SessionJobReply>(new SessionJobState(!view.Task.IsTerminal, jobId, JobState(view.Task.Status), TaskOutputs.Describe(view)));
        var result = await ResultAsync(view, outputs, cancellationToken);
        return TypedResults.Ok<SessionJobReply>(new SessionJobDone(Success: true, jobId, result.Auth, result.ComputeDuration, result.Images, result.Text,
            result.TotalDuration, result.WorkerInterfaceVersion, view.Task.Seed, view.Task.Prompt));
    }

    /// <summary>A job's state, its progress with a live preview while it runs, and its result once done.</summary>
    public static async Task<Results<Ok<SessionProgressReply>, JsonHttpResult<SessionFailure>>> Progress(HttpRequest request,
        ClientSessionService sessions, TaskService tasks, TaskOutputs outputs, TaskNotifier notifier, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadAsync(request);
        if (error is not null) return Failure(error);
        var session = await sessions.FindAsync(GenerationFields.String(body, "client_session_auth_key"), cancellationToken);
        if (session is null) return Failure(SessionExpired());
        if (GenerationFields.Unknown(body, ["client_session_auth_key", "job_id"]) is { } unknown) return Failure(unknown);
        var jobId = GenerationFields.String(body, "job_id");
        if (jobId is null || !Guid.TryParseExact(jobId, "N", out var taskId))
            return Failure(TaskErrors.InvalidRequest("job_id is missing or malformed.", "job_id"));
        var view = await tasks.GetAsync(taskId, session.UserId, cancellationToken);
        if (view is null) return Failure(new TaskError(ErrorTypes.TaskNotFound, "There is no job with this job_id in this session's account."));

        var task = view.Task;
        var progress = new SessionProgress(jobId, task.Status == GenerationTaskStatus.Succeeded ? 100 : task.ProgressPercent,
            view.Phase.WireName(), view.EtaSeconds, view.QueuePosition);
        var reply = new SessionProgressReply(jobId, JobState(task.Status), progress,
            Success: task.Status is not (GenerationTaskStatus.Failed or GenerationTaskStatus.Canceled or GenerationTaskStatus.Blocked));
        switch (task.Status)
        {
            case GenerationTaskStatus.Running when TaskOutputs.PreviewBase64(notifier, taskId) is { } preview:
                return TypedResults.Ok(reply with { Progress = progress with { ProgressData = new([preview], TaskOutputs.Describe(view)) } });
            case GenerationTaskStatus.Succeeded:
                var result = await ResultAsync(view, outputs, cancellationToken);
                return TypedResults.Ok(reply with { Progress = progress with { ProgressData = new(result.Images, result.Text) }, JobResult = result });
            case GenerationTaskStatus.Failed or GenerationTaskStatus.Canceled or GenerationTaskStatus.Blocked:
                return TypedResults.Ok(reply with { Message = TaskOutputs.Describe(view), ErrorCode = task.ErrorCode });
            default:
                return TypedResults.Ok(reply);
        }
    }

    public static string JobId(Guid taskId) => taskId.ToString("N");

    /// <summary>The session interface's envelope of an error, with its kind's status.</summary>
    public static JsonHttpResult<SessionFailure> Failure(TaskError error) =>
        TypedResults.Json(new SessionFailure(Success: false, error.Message, error.Message, error.Code), statusCode: ApiProblems.StatusFor(error.Kind));

    /// <summary>Attached to the dialect's routes: errors raised outside the handlers are answered in its envelope too.</summary>
    public static ApiErrorWriter Errors { get; } = new SessionErrors();

    private sealed class SessionErrors : ApiErrorWriter
    {
        public override Type EnvelopeType => typeof(SessionFailure);
        public override IResult Write(TaskError error, HttpContext context) => Failure(error);
    }

    private static TaskError SessionExpired() =>
        new(ErrorTypes.Unauthorized, "client_session_auth_key is missing, unknown or expired; call /login.");

    /// <summary>
    /// The body (an empty one counts as <c>{}</c>), read before anything else: the keys travel in it. Each endpoint refuses a
    /// member it does not take once the caller is known.
    /// </summary>
    private static Task<(JsonElement Body, TaskError? Error)> ReadAsync(HttpRequest request) =>
        RequestBodies.ReadJsonObjectAsync(request, request.HttpContext.RequestAborted, emptyIsObject: true);

    private static string JobState(GenerationTaskStatus status) => status switch
    {
        GenerationTaskStatus.Queued or GenerationTaskStatus.Running => "processing",
        GenerationTaskStatus.Succeeded => "done",
        GenerationTaskStatus.Canceled => "canceled",
        _ => "failed",
    };

    private static async Task<SessionJobResult> ResultAsync(TaskView view, TaskOutputs outputs, CancellationToken cancellationToken) =>
        new(view.Task.WorkerName, Seconds(view.Task.ComputeDurationMs), await outputs.Base64Async(view.Task, cancellationToken),
            TaskOutputs.Describe(view), Seconds(view.Task.TotalDurationMs), WorkerInterfaceVersion);

    private static double? Seconds(long? milliseconds) => milliseconds is { } ms ? Math.Round(ms / 1000.0, 3) : null;
}
