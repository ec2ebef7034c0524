using System.Security.Claims;
using System.Text.Json.Serialization;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.BentoML;

/// <summary>
/// The BentoML-style user-defined endpoint: <c>POST /generate</c> with a bearer key, answering with the
/// image itself for <c>accept: image/*</c> or JSON with base64 for <c>accept: application/json</c>.
/// Any width and height from 64 to 4096 are produced exactly. Errors are the native API's problems.
/// </summary>
public static class BentoMLApi
{
    /// <summary>
    /// The dialect's one name: its tasks' source, its synchronous calls' key and its examples' id (tasks stored as
    /// <c>bento</c> before this name were renamed by the <c>BentoMLSource</c> migration).
    /// </summary>
    public const string Name = "bentoml";

    public static IEndpointRouteBuilder MapBentoMLApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/generate", Generate).WithTags("BentoML").RequireAuthorization().WithMetadata(BentoMLExamples.Dialect)
            .Produces(StatusCodes.Status200OK, typeof(Stream), "image/png", "image/jpeg", "image/webp")
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.TooLarge, ErrorKind.PaymentRequired, ErrorKind.Forbidden,
                ErrorKind.RefusedByPolicy, ErrorKind.Failed, ErrorKind.Timeout);
        return routes;
    }

    /// <summary>Generates and answers with the image (PNG, or JPEG/WebP when accepted) or JSON; waits up to <c>Api:SyncWaitSeconds</c>.</summary>
    public static async Task<Results<FileContentHttpResult, Ok<BentoMLResponse>, ProblemHttpResult>> Generate(HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, cancellationToken);
        if (error is not null) return ApiProblems.From(error);

        var parsed = GenerationFields.Parse(body, options.Value.DefaultModel, Name);
        if (!parsed.Succeeded) return ApiProblems.From(parsed.Error!);
        var submission = parsed.Value!;
        var negotiated = Negotiate(request, submission.OutputFormat);
        if (!negotiated.Succeeded) return ApiProblems.From(negotiated.Error!);
        var (wantsJson, format) = negotiated.Value;
        if (!wantsJson && submission.ImageCount > 1)
            return ApiProblems.From(TaskErrors.InvalidRequest("An image response holds one image; ask for 'accept: application/json' to get several.", "num_images"));
        submission = submission with { OutputFormat = submission.OutputFormat ?? format };

        var wait = TimeSpan.FromSeconds(options.Value.SyncWaitSeconds);
        var call = SynchronousCalls.Identify(request, Name, $"{wantsJson}:{format}:{body.GetRawText()}", wait);
        var ran = await tasks.RunSynchronousAsync(caller.UserId(), submission, call, cancellationToken);
        if (!ran.Succeeded) return ApiProblems.From(ran.Error!);
        var task = ran.Value!.Task;
        if (!task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
        if (!task.IsTerminal)
            return ApiProblems.From(new TaskError(ErrorTypes.StillRunning, $"The image is not ready yet; follow it at /api/v1/tasks/{task.Id}."),
                new Dictionary<string, object?> { ["taskId"] = task.Id });
        if (task.Status != GenerationTaskStatus.Succeeded)
            return ApiProblems.From(new TaskError(ErrorTypes.GenerationFailed, task.ErrorMessage ?? "The image could not be generated."),
                new Dictionary<string, object?> { ["code"] = task.ErrorCode, ["taskId"] = task.Id });

        var images = await outputs.Base64Async(task, cancellationToken);
        if (!wantsJson) return TypedResults.Bytes(Convert.FromBase64String(images[0]), task.Images[0].ContentType);
        return TypedResults.Ok(new BentoMLResponse(images, task.OutputFormat.ContentType(), task.Width, task.Height, task.Seed, task.ModelId, task.Id));
    }

    /// <summary>
    /// What <c>Accept</c> takes, in its order of preference (RFC 9110 §12.5.1; a missing header takes anything): JSON, or an image
    /// in the requested <c>output_format</c> (PNG when none; <c>image/jpeg</c> or <c>image/webp</c> choose it too). Refused with
    /// <c>invalid_request</c> naming <c>output_format</c> when the header names only image types other than that format, and with
    /// <c>not_acceptable</c> (406) when it takes none of JSON, PNG, JPEG and WebP.
    /// </summary>
    private static Outcome<(bool Json, string Format)> Negotiate(HttpRequest request, string? outputFormat)
    {
        var asked = OutputFormats.TryParse(outputFormat, out var parsed) && outputFormat is not null ? parsed : (OutputFormat?)null;
        var header = request.GetTypedHeaders().Accept;
        if (header.Count == 0) return (false, outputFormat ?? "png");
        string? conflicting = null;
        foreach (var accept in header.Where(a => a.Quality is not 0).OrderByDescending(a => a.Quality ?? 1))
        {
            var type = accept.MediaType.Value?.ToLowerInvariant();
            switch (type)
            {
                case "application/json" or "application/*": return (true, outputFormat ?? "png");
                case "image/*" or "*/*": return (false, outputFormat ?? "png");
                case "image/png" or "image/jpeg" or "image/webp":
                    OutputFormats.TryParse(type, out var offered);
                    if (asked is null || asked == offered) return (false, offered.ToString().ToLowerInvariant());
                    conflicting ??= type;
                    break;
            }
        }
        if (conflicting is not null)
            return TaskErrors.InvalidRequest($"'Accept: {conflicting}' asks for a different image type than output_format '{outputFormat}'; " +
                "accept that type (or image/*, or application/json), or leave output_format out.", "output_format");
        return new TaskError(ErrorTypes.NotAcceptable,
            $"'Accept: {request.Headers.Accept}' takes none of what /generate answers: application/json, image/png, image/jpeg, image/webp.");
    }
}

/// <summary>
/// The JSON answer of <c>/generate</c>: the base64 <c>images</c>, their <c>content_type</c>, <c>width</c> and <c>height</c> in pixels,
/// the <c>seed</c>, the <c>model</c> and the <c>task_id</c> (the native API's task).
/// </summary>
public sealed record BentoMLResponse(
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("content_type")] string ContentType,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("task_id")] Guid TaskId);
