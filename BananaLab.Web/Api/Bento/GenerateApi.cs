using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace BananaLab.Web.Api.Bento;

/// <summary>
/// The BentoML-style user-defined endpoint: <c>POST /generate</c> with a bearer key, answering with the
/// image itself for <c>accept: image/*</c> or JSON with base64 for <c>accept: application/json</c>.
/// Any width and height from 64 to 4096 are produced exactly.
/// </summary>
public static class GenerateApi
{
    public static IEndpointRouteBuilder MapGenerateApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/generate", Generate).WithTags("BentoML").RequireAuthorization()
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp", "application/json"]);
        return routes;
    }

    public static async Task<IResult> Generate(HttpRequest request, ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs,
        IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, cancellationToken);
        if (error is not null)
            return ApiProblems.From(new TaskError(error.Status == StatusCodes.Status413PayloadTooLarge ? ErrorTypes.BodyTooLarge : ErrorTypes.InvalidRequest, error.Message));

        var (wantsJson, format) = Negotiate(request);
        var parsed = GenerationFields.Parse(body, options.Value.DefaultModel, "bento");
        if (!parsed.Succeeded) return ApiProblems.From(parsed.Error!);
        var submission = parsed.Value!;
        if (!wantsJson && submission.ImageCount > 1)
            return ApiProblems.From(TaskErrors.InvalidRequest("An image response holds one image; ask for 'accept: application/json' to get several.", "num_images"));
        submission = submission with { OutputFormat = submission.OutputFormat ?? format };

        var wait = TimeSpan.FromSeconds(options.Value.SyncWaitSeconds);
        var call = SynchronousCalls.Identify(request, "bento", $"{wantsJson}:{format}:{body.GetRawText()}", wait);
        var submitted = await tasks.SubmitSynchronousAsync(caller.UserId(), submission, call, cancellationToken);
        if (!submitted.Succeeded) return ApiProblems.From(submitted.Error!);
        var view = await tasks.WaitAsync(submitted.Value!.Id, caller.UserId(), wait, cancellationToken);
        var task = view!.Task;
        if (!task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
        if (!task.IsTerminal)
            return TypedResults.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "Still generating",
                detail: $"The image is not ready yet; follow it at /api/v1/tasks/{task.Id}.",
                extensions: new Dictionary<string, object?> { ["code"] = "still_running", ["taskId"] = task.Id });
        if (task.Status != GenerationTaskStatus.Succeeded)
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Generation failed", detail: task.ErrorMessage,
                extensions: new Dictionary<string, object?> { ["code"] = task.ErrorCode, ["taskId"] = task.Id });

        var images = await outputs.Base64Async(task, cancellationToken);
        if (!wantsJson)
        {
            var image = task.Images[0];
            return TypedResults.Bytes(Convert.FromBase64String(images[0]), image.ContentType);
        }
        return Results.Json(new JsonObject
        {
            ["images"] = new JsonArray(images.Select(i => (JsonNode?)i).ToArray()),
            ["content_type"] = task.OutputFormat.ContentType(),
            ["width"] = task.Width,
            ["height"] = task.Height,
            ["seed"] = task.Seed,
            ["model"] = task.ModelId,
            ["task_id"] = task.Id,
        });
    }

    /// <summary>JSON when the client asks for it first; otherwise an image, PNG unless JPEG or WebP is named.</summary>
    private static (bool Json, string Format) Negotiate(HttpRequest request)
    {
        var accepts = request.GetTypedHeaders().Accept.OrderByDescending(a => a.Quality ?? 1).ToList();
        foreach (var accept in accepts)
        {
            var type = accept.MediaType.Value?.ToLowerInvariant();
            switch (type)
            {
                case "application/json": return (true, "png");
                case "image/jpeg": return (false, "jpeg");
                case "image/webp": return (false, "webp");
                case "image/png" or "image/*" or "*/*": return (false, "png");
            }
        }
        return (false, "png");
    }
}
