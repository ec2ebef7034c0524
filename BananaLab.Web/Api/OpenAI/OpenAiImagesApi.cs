using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using BananaLab.Core.Errors;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Files;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.OpenAI;

/// <summary>
/// OpenAI-compatible images API (<c>/v1/images/generations</c>, <c>/v1/images/edits</c>), so OpenAI SDK
/// clients work by changing the base URL. Errors use OpenAI's <c>{"error": {...}}</c> envelope (<see cref="OpenAiErrorResponse"/>).
/// </summary>
public static class OpenAiImagesApi
{
    /// <summary>The dialect's one name: its tasks' source and its synchronous calls' key.</summary>
    public const string Name = "openai";

    public static IEndpointRouteBuilder MapOpenAiImagesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/images").WithTags("OpenAI images").AllowAnonymous().WithMetadata(Errors, OpenAiExamples.Dialect)
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.TooLarge, ErrorKind.PaymentRequired, ErrorKind.Forbidden,
                ErrorKind.RefusedByPolicy, ErrorKind.Failed, ErrorKind.Timeout);
        group.MapPost("/generations", Generations);
        group.MapPost("/edits", Edits).DisableAntiforgery();
        return routes;
    }

    /// <summary>Generates <c>n</c> images for a JSON request and answers once they are done (or <c>Api:SyncWaitSeconds</c> passed).</summary>
    public static async Task<Results<Ok<OpenAiImagesResponse>, JsonHttpResult<OpenAiErrorResponse>>> Generations(HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs, SignedImageUrls urls, IOptions<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        if (caller.Identity?.IsAuthenticated != true) return Unauthorized();
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, cancellationToken);
        if (error is not null) return Error(error, code: error.Kind == ErrorKind.TooLarge ? null : "invalid_json");
        var fields = new Fields(
            GenerationFields.String(body, "model"), GenerationFields.String(body, "prompt"),
            body.TryGetProperty("n", out var n) && n.ValueKind != JsonValueKind.Null
                ? n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) ? count : throw GenerationFields.WrongType("n", "a whole number")
                : null,
            GenerationFields.String(body, "size"), GenerationFields.String(body, "response_format"),
            GenerationFields.String(body, "output_format"), null);
        return await RunAsync(fields, request, caller, tasks, outputs, urls, options.Value, cancellationToken);
    }

    /// <summary>Generates from a multipart request with an <c>image</c> file (masks are not supported).</summary>
    public static async Task<Results<Ok<OpenAiImagesResponse>, JsonHttpResult<OpenAiErrorResponse>>> Edits(HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs, SignedImageUrls urls, IOptions<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        if (caller.Identity?.IsAuthenticated != true) return Unauthorized();
        if (request.ContentLength > RequestBodies.MaxBytes) return Error(RequestBodies.TooLarge());
        if (!request.HasFormContentType) return Error(TaskErrors.InvalidRequest("Send multipart/form-data with an 'image' file and a 'prompt'."));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException)
        {
            return Error(e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? RequestBodies.TooLarge()
                : TaskErrors.InvalidRequest($"The multipart body could not be read: {e.Message}"));
        }
        if (form.Files.GetFile("mask") is not null) return Invalid("Masks are not supported; send the whole image to edit.", "mask", "unsupported_parameter");
        var file = form.Files.GetFile("image") ?? form.Files.GetFile("image[]");
        if (file is null) return Invalid("'image' is required.", "image", "missing_required_parameter");
        using var stream = new MemoryStream();
        await file.CopyToAsync(stream, cancellationToken);

        int? n = null;
        if (form.TryGetValue("n", out var nText) && !string.IsNullOrWhiteSpace(nText))
        {
            if (!int.TryParse(nText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) return Invalid("'n' must be a whole number.", "n", "invalid_type");
            n = parsed;
        }
        var fields = new Fields(form["model"].ToString().NullIfEmpty(), form["prompt"].ToString().NullIfEmpty(), n,
            form["size"].ToString().NullIfEmpty(), form["response_format"].ToString().NullIfEmpty(),
            form["output_format"].ToString().NullIfEmpty(), new ReferenceImageUpload(stream.ToArray(), file.FileName));
        return await RunAsync(fields, request, caller, tasks, outputs, urls, options.Value, cancellationToken);
    }

    /// <summary>
    /// OpenAI's envelope of an error, with its kind's status. <paramref name="code"/> and <paramref name="param"/> replace what
    /// the error says (its code, OpenAI's name of its field) where OpenAI has a word of its own.
    /// </summary>
    public static JsonHttpResult<OpenAiErrorResponse> Error(TaskError error, string? code = null, string? param = null)
    {
        var (type, openAiCode) = error.Kind switch
        {
            ErrorKind.RefusedByPolicy => ("invalid_request_error", "content_policy_violation"),
            ErrorKind.RateLimited => ("rate_limit_error", "rate_limit_exceeded"),
            ErrorKind.Unauthorized => ("invalid_request_error", "invalid_api_key"),
            ErrorKind.Timeout => ("server_error", "timeout"),
            ErrorKind.Failed or ErrorKind.Unavailable or ErrorKind.Unexpected => ("server_error", error.Code),
            ErrorKind.InvalidRequest when error.Field is not null => ("invalid_request_error", "invalid_type"),
            _ => ("invalid_request_error", error.Code),
        };
        return TypedResults.Json(new OpenAiErrorResponse(new OpenAiError(error.Message, type, param ?? Param(error.Field), code ?? openAiCode)),
            statusCode: ApiProblems.StatusFor(error.Kind));
    }

    /// <summary>Attached to the dialect's routes: errors raised outside the handlers are answered in OpenAI's envelope too.</summary>
    public static ApiErrorWriter Errors { get; } = new OpenAiErrors();

    private sealed class OpenAiErrors : ApiErrorWriter
    {
        public override Type EnvelopeType => typeof(OpenAiErrorResponse);
        public override IResult Write(TaskError error, HttpContext context) => Error(error);
    }

    private sealed record Fields(string? Model, string? Prompt, int? N, string? Size, string? ResponseFormat, string? OutputFormat,
        ReferenceImageUpload? Image);

    private static async Task<Results<Ok<OpenAiImagesResponse>, JsonHttpResult<OpenAiErrorResponse>>> RunAsync(Fields fields, HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs, SignedImageUrls urls, ApiOptions options, CancellationToken cancellationToken)
    {
        var responseFormat = fields.ResponseFormat ?? "url";
        if (responseFormat is not ("url" or "b64_json"))
            return Invalid($"'{responseFormat}' is not one of ['url', 'b64_json'] - 'response_format'", "response_format", "invalid_value");
        int? width = null, height = null;
        if (fields.Size is { } size && size != "auto")
        {
            var parts = size.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h))
                return Invalid($"'{size}' is not a size like '1024x1024'.", "size", "invalid_value");
            (width, height) = (w, h);
        }

        var wait = TimeSpan.FromSeconds(options.SyncWaitSeconds);
        // The same fields (and image bytes) are the same request, whatever the JSON spacing or multipart boundary.
        var canonical = string.Join('\n', fields.Model, fields.Prompt, fields.N, fields.Size, fields.ResponseFormat, fields.OutputFormat,
            fields.Image is { } upload ? IdempotencyStore.HashRequest(upload.Data) : "");
        var ran = await tasks.RunSynchronousAsync(caller.UserId(), new SubmitTaskRequest
        {
            ModelId = fields.Model ?? options.DefaultModel, Prompt = fields.Prompt, ImageCount = fields.N, Width = width, Height = height,
            OutputFormat = fields.OutputFormat, ReferenceImage = fields.Image, Source = Name,
        }, SynchronousCalls.Identify(request, Name, canonical, wait), cancellationToken);
        if (!ran.Succeeded) return Error(ran.Error!);

        var task = ran.Value!.Task;
        if (!task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
        if (!task.IsTerminal) return Error(new TaskError(ErrorTypes.StillRunning, $"Still generating; follow it at /api/v1/tasks/{task.Id}."));
        if (task.Status != GenerationTaskStatus.Succeeded)
            return Error(new TaskError(ErrorTypes.GenerationFailed, task.ErrorMessage ?? "The image could not be generated."), code: task.ErrorCode);

        var base64 = responseFormat == "b64_json" ? await outputs.Base64Async(task, cancellationToken) : null;
        var data = task.Images.OrderBy(i => i.Index).Select(image => base64 is null
            ? new OpenAiImage { Url = urls.For(request, task.Id, image.Index), RevisedPrompt = task.Prompt }
            : new OpenAiImage { B64Json = base64[image.Index], RevisedPrompt = task.Prompt }).ToList();
        return TypedResults.Ok(new OpenAiImagesResponse(new DateTimeOffset(task.CreatedAt).ToUnixTimeSeconds(), data,
            task.OutputFormat.ToString().ToLowerInvariant(), $"{task.Width}x{task.Height}"));
    }

    /// <summary>OpenAI's name for a field of the engine's request; null for one OpenAI's API does not have.</summary>
    private static string? Param(string? field) => field switch
    {
        nameof(SubmitTaskRequest.ModelId) => "model",
        nameof(SubmitTaskRequest.Prompt) => "prompt",
        nameof(SubmitTaskRequest.ImageCount) => "n",
        nameof(SubmitTaskRequest.Size) => "size",
        nameof(SubmitTaskRequest.ReferenceImage) => "image",
        _ => null,
    };

    /// <summary>A parameter OpenAI's API has, refused with OpenAI's own code for why.</summary>
    private static JsonHttpResult<OpenAiErrorResponse> Invalid(string message, string param, string code) =>
        Error(TaskErrors.InvalidRequest(message, param), code, param);

    private static JsonHttpResult<OpenAiErrorResponse> Unauthorized() =>
        Error(new TaskError(ErrorTypes.Unauthorized, "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'."));

    private static string? NullIfEmpty(this string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
