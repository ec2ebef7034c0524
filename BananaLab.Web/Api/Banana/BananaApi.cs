using System.Text.Json;
using System.Text.Json.Nodes;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Files;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Banana;

/// <summary>
/// Banana REST API v4 (<c>/start/v4</c>, <c>/check/v4</c>). Its contract: never an HTTP 500; every failure
/// is a 200 whose <c>message</c> contains "error".
/// </summary>
public static class BananaApi
{
    public const string ApiVersion = "BananaLab v4 (Nov 14 2021 compatible)";

    public static IEndpointRouteBuilder MapBananaApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Banana v4").AllowAnonymous();
        group.MapPost("/start/v4", Start);
        group.MapPost("/check/v4", Check);
        return routes;
    }

    public static Task<IResult> Start(HttpRequest request, TaskService tasks, ApiKeyService keys, TaskOutputs outputs,
        SignedImageUrls urls, IOptions<ApiOptions> options, CancellationToken cancellationToken) =>
        Envelope(request, async (body, reply) =>
        {
            var caller = await keys.AuthenticateAsync(GenerationFields.String(body, "apiKey"), cancellationToken);
            if (caller is null) return reply.Error("apiKey is missing, unknown or revoked");
            var modelKey = GenerationFields.String(body, "modelKey");
            if (string.IsNullOrWhiteSpace(modelKey)) return reply.Error("modelKey is required");
            if (!body.TryGetProperty("modelInputs", out var inputs) || inputs.ValueKind != JsonValueKind.Object)
                return reply.Error("modelInputs is required and must be an object");
            var startOnly = GenerationFields.Bool(body, "startOnly") ?? false;

            var parsed = GenerationFields.Parse(inputs, modelKey, "banana");
            if (!parsed.Succeeded) return reply.Error(parsed.Error!.Message);
            var wait = startOnly ? TimeSpan.Zero : TimeSpan.FromSeconds(options.Value.BananaStartWaitSeconds);
            var submitted = wait > TimeSpan.Zero
                ? await tasks.SubmitSynchronousAsync(caller.User.Id, parsed.Value! with { ModelId = modelKey },
                    SynchronousCalls.Identify(request, "banana", body.GetRawText(), wait), cancellationToken)
                : await tasks.SubmitAsync(caller.User.Id, parsed.Value! with { ModelId = modelKey }, cancellationToken);
            if (!submitted.Succeeded) return reply.Error(submitted.Error!.Message);

            reply.Node["callID"] = CallId(submitted.Value!.Id);
            var view = await tasks.WaitAsync(submitted.Value.Id, caller.User.Id, wait, cancellationToken);
            if (wait > TimeSpan.Zero && !view!.Task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
            return await reply.TaskStateAsync(view!, outputs, urls, request, cancellationToken);
        });

    public static Task<IResult> Check(HttpRequest request, TaskService tasks, ApiKeyService keys, TaskOutputs outputs,
        SignedImageUrls urls, IOptions<ApiOptions> options, CancellationToken cancellationToken) =>
        Envelope(request, async (body, reply) =>
        {
            var caller = await keys.AuthenticateAsync(GenerationFields.String(body, "apiKey"), cancellationToken);
            if (caller is null) return reply.Error("apiKey is missing, unknown or revoked");
            var callId = GenerationFields.String(body, "callID");
            if (!TryParseCallId(callId, out var taskId)) return reply.Error("callID is missing or malformed");
            reply.Node["callID"] = callId;
            var wait = GenerationFields.Bool(body, "longPoll") == true ? TimeSpan.FromSeconds(options.Value.BananaCheckWaitSeconds) : TimeSpan.Zero;
            var view = await tasks.WaitAsync(taskId, caller.User.Id, wait, cancellationToken);
            if (view is null) return reply.Error("no task with this callID");
            return await reply.TaskStateAsync(view, outputs, urls, request, cancellationToken);
        });

    public static string CallId(Guid taskId) => "call_" + taskId.ToString("N");

    private static bool TryParseCallId(string? callId, out Guid taskId)
    {
        taskId = Guid.Empty;
        return callId is not null && callId.StartsWith("call_", StringComparison.Ordinal) && Guid.TryParseExact(callId[5..], "N", out taskId);
    }

    /// <summary>Parses the body and guarantees a 200 with the Banana envelope, whatever happens inside.</summary>
    private static async Task<IResult> Envelope(HttpRequest request, Func<JsonElement, Reply, Task<IResult>> handle)
    {
        var reply = new Reply();
        try
        {
            var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, request.HttpContext.RequestAborted);
            if (error is not null) return reply.Error(error.Message);
            reply.Node["id"] = GenerationFields.String(body, "id") ?? Guid.NewGuid().ToString();
            return await handle(body, reply);
        }
        catch (GenerationFields.FieldException e)
        {
            return reply.Error(e.Message);
        }
        catch (OperationCanceledException) when (request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return reply.Error("the request was aborted");
        }
        catch (Exception e)
        {
            request.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BananaApi))
                .LogError(e, "Banana v4 request failed");
            return reply.Error("server error, please try again");
        }
    }

    private sealed class Reply
    {
        public JsonObject Node { get; } = new()
        {
            ["id"] = null,
            ["message"] = "",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["apiVersion"] = ApiVersion,
            ["callID"] = null,
            ["finished"] = false,
            ["modelOutputs"] = new JsonArray(),
        };

        public IResult Error(string reason)
        {
            Node["message"] = "error: " + reason;
            Node["finished"] = true;
            return Results.Json(Node);
        }

        public async Task<IResult> TaskStateAsync(TaskView view, TaskOutputs outputs, SignedImageUrls urls, HttpRequest request,
            CancellationToken cancellationToken)
        {
            var task = view.Task;
            switch (task.Status)
            {
                case GenerationTaskStatus.Succeeded:
                    var images = await outputs.Base64Async(task, cancellationToken);
                    var modelOutputs = new JsonArray();
                    foreach (var image in task.Images.OrderBy(i => i.Index))
                        modelOutputs.Add(new JsonObject
                        {
                            ["image_base64"] = images[image.Index],
                            ["image_url"] = urls.For(request, task.Id, image.Index),
                            ["width"] = image.Width,
                            ["height"] = image.Height,
                            ["seed"] = task.Seed + image.Index,
                            ["index"] = image.Index,
                            ["content_type"] = image.ContentType,
                        });
                    Node["message"] = "success";
                    Node["finished"] = true;
                    Node["modelOutputs"] = modelOutputs;
                    return Results.Json(Node);
                case GenerationTaskStatus.Queued or GenerationTaskStatus.Running:
                    Node["message"] = TaskOutputs.Describe(view);
                    Node["finished"] = false;
                    return Results.Json(Node);
                default:
                    return Error(TaskOutputs.Describe(view));
            }
        }
    }
}
