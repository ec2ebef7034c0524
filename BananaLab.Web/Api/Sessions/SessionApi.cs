using System.Text.Json;
using System.Text.Json.Nodes;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Sessions;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Sessions;

/// <summary>
/// The session interface: <c>/login</c> trades an API key for a session key bound to one model,
/// <c>/endpoint</c> submits a job, <c>/endpoint/progress</c> reports its state, previews and result (its <c>progress</c>
/// object carries <c>progress</c> 0–100, <c>phase</c> as the native API names it, <c>eta_seconds</c> and <c>queue_position</c>).
/// </summary>
public static class SessionApi
{
    public const string WorkerInterfaceVersion = "API-Worker-Interface 0.3.5";

    public static IEndpointRouteBuilder MapSessionApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Session interface").AllowAnonymous();
        group.MapPost("/login", Login);
        group.MapPost("/endpoint", Submit);
        group.MapPost("/endpoint/progress", Progress);
        return routes;
    }

    public static Task<IResult> Login(HttpRequest request, ApiKeyService keys, ClientSessionService sessions, ModelCatalog catalog,
        CancellationToken cancellationToken) => Handle(request, async body =>
        {
            var header = request.Headers.Authorization.ToString();
            var apiKey = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..] : GenerationFields.String(body, "api_key");
            var caller = await keys.AuthenticateAsync(apiKey, cancellationToken);
            if (caller is null) return Failure(StatusCodes.Status401Unauthorized, "Send a valid API key as 'Authorization: Bearer <key>' or 'api_key'.");
            var model = catalog.Find(GenerationFields.String(body, "endpoint_name"));
            if (model is null) return Failure(StatusCodes.Status400BadRequest, "endpoint_name must name one of the models in /api/v1/models.");
            var (_, key) = await sessions.CreateAsync(caller.User.Id, caller.Key.Id, model.Id, GenerationFields.String(body, "version"), cancellationToken);
            return Results.Json(new JsonObject { ["client_session_auth_key"] = key });
        });

    public static Task<IResult> Submit(HttpRequest request, ClientSessionService sessions, TaskService tasks, TaskOutputs outputs,
        IOptions<ApiOptions> options, CancellationToken cancellationToken) => Handle(request, async body =>
        {
            var session = await sessions.FindAsync(GenerationFields.String(body, "client_session_auth_key"), cancellationToken);
            if (session is null) return Failure(StatusCodes.Status401Unauthorized, "client_session_auth_key is missing, unknown or expired; call /login.");
            var parsed = GenerationFields.Parse(body, session.ModelId, "session");
            if (!parsed.Succeeded) return Failure(StatusCodes.Status400BadRequest, parsed.Error!.Message, parsed.Error.Code);
            var wait = TimeSpan.FromSeconds(options.Value.SyncWaitSeconds);
            var waits = GenerationFields.Bool(body, "wait_for_result") == true;
            var submitted = waits
                ? await tasks.SubmitSynchronousAsync(session.UserId, parsed.Value! with { ModelId = session.ModelId },
                    SynchronousCalls.Identify(request, "session", body.GetRawText(), wait), cancellationToken)
                : await tasks.SubmitAsync(session.UserId, parsed.Value! with { ModelId = session.ModelId }, cancellationToken);
            if (!submitted.Succeeded)
                return Failure(ApiProblems.StatusFor(submitted.Error!.Kind), submitted.Error.Message, submitted.Error.Code);

            var jobId = JobId(submitted.Value!.Id);
            if (!waits) return Results.Json(new JsonObject { ["success"] = true, ["job_id"] = jobId });

            var view = await tasks.WaitAsync(submitted.Value.Id, session.UserId, wait, cancellationToken);
            if (!view!.Task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
            if (view.Task.Status != GenerationTaskStatus.Succeeded)
                return Results.Json(new JsonObject
                {
                    ["success"] = !view.Task.IsTerminal, ["job_id"] = jobId, ["job_state"] = JobState(view.Task.Status),
                    ["message"] = TaskOutputs.Describe(view),
                });
            var result = await ResultAsync(view, outputs, cancellationToken);
            result["success"] = true;
            result["job_id"] = jobId;
            result["seed"] = view.Task.Seed;
            result["prompt"] = view.Task.Prompt;
            return Results.Json(result);
        });

    public static Task<IResult> Progress(HttpRequest request, ClientSessionService sessions, TaskService tasks, TaskOutputs outputs,
        TaskNotifier notifier, CancellationToken cancellationToken) => Handle(request, async body =>
        {
            var session = await sessions.FindAsync(GenerationFields.String(body, "client_session_auth_key"), cancellationToken);
            if (session is null) return Failure(StatusCodes.Status401Unauthorized, "client_session_auth_key is missing, unknown or expired; call /login.");
            var jobId = GenerationFields.String(body, "job_id");
            if (jobId is null || !Guid.TryParseExact(jobId, "N", out var taskId)) return Failure(StatusCodes.Status400BadRequest, "job_id is missing or malformed.");
            var view = await tasks.GetAsync(taskId, session.UserId, cancellationToken);
            if (view is null) return Failure(StatusCodes.Status404NotFound, "There is no job with this job_id in this session's account.");

            var task = view.Task;
            var progress = new JsonObject
            {
                ["job_id"] = jobId,
                ["progress"] = task.Status == GenerationTaskStatus.Succeeded ? 100 : task.ProgressPercent,
                ["phase"] = view.Phase.WireName(),
                ["eta_seconds"] = view.EtaSeconds,
                ["queue_position"] = view.QueuePosition,
            };
            var reply = new JsonObject
            {
                ["job_id"] = jobId,
                ["job_state"] = JobState(task.Status),
                ["progress"] = progress,
                ["success"] = task.Status is not (GenerationTaskStatus.Failed or GenerationTaskStatus.Canceled or GenerationTaskStatus.Blocked),
            };
            switch (task.Status)
            {
                case GenerationTaskStatus.Running when TaskOutputs.PreviewBase64(notifier, taskId) is { } preview:
                    progress["progress_data"] = new JsonObject { ["images"] = new JsonArray(preview), ["text"] = TaskOutputs.Describe(view) };
                    break;
                case GenerationTaskStatus.Succeeded:
                    var result = await ResultAsync(view, outputs, cancellationToken);
                    progress["progress_data"] = new JsonObject { ["images"] = result["images"]!.DeepClone(), ["text"] = result["text"]!.DeepClone() };
                    reply["job_result"] = result;
                    break;
                case GenerationTaskStatus.Failed or GenerationTaskStatus.Canceled or GenerationTaskStatus.Blocked:
                    reply["message"] = TaskOutputs.Describe(view);
                    reply["error_code"] = task.ErrorCode;
                    break;
            }
            return Results.Json(reply);
        });

    public static string JobId(Guid taskId) => taskId.ToString("N");

    private static string JobState(GenerationTaskStatus status) => status switch
    {
        GenerationTaskStatus.Queued or GenerationTaskStatus.Running => "processing",
        GenerationTaskStatus.Succeeded => "done",
        GenerationTaskStatus.Canceled => "canceled",
        _ => "failed",
    };

    private static async Task<JsonObject> ResultAsync(TaskView view, TaskOutputs outputs, CancellationToken cancellationToken)
    {
        var images = new JsonArray();
        foreach (var image in await outputs.Base64Async(view.Task, cancellationToken)) images.Add(image);
        return new JsonObject
        {
            ["auth"] = view.Task.WorkerName,
            ["compute_duration"] = Seconds(view.Task.ComputeDurationMs),
            ["images"] = images,
            ["text"] = TaskOutputs.Describe(view),
            ["total_duration"] = Seconds(view.Task.TotalDurationMs),
            ["worker_interface_version"] = WorkerInterfaceVersion,
        };
    }

    private static double? Seconds(long? milliseconds) => milliseconds is { } ms ? Math.Round(ms / 1000.0, 3) : null;

    private static async Task<IResult> Handle(HttpRequest request, Func<JsonElement, Task<IResult>> handle)
    {
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, request.HttpContext.RequestAborted, emptyIsObject: true);
        if (error is not null) return Failure(error.Status, error.Message);
        try
        {
            return await handle(body);
        }
        catch (GenerationFields.FieldException e)
        {
            return Failure(StatusCodes.Status400BadRequest, e.Message);
        }
    }

    private static IResult Failure(int status, string message, string code = "invalid_request") =>
        Results.Json(new JsonObject { ["success"] = false, ["error"] = message, ["message"] = message, ["code"] = code }, statusCode: status);
}
