using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using BananaLab.Core.Errors;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Files;
using BananaLab.Web.Auth;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.OpenAI;

/// <summary>
/// OpenAI-compatible images API (<c>/v1/images/generations</c>, <c>/v1/images/edits</c>), so OpenAI SDK
/// clients work by changing the base URL. Errors use OpenAI's <c>{"error": {...}}</c> envelope.
/// </summary>
public static class OpenAiImagesApi
{
    public static IEndpointRouteBuilder MapOpenAiImagesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/images").WithTags("OpenAI images").AllowAnonymous();
        group.MapPost("/generations", Generations);
        group.MapPost("/edits", Edits).DisableAntiforgery();
        return routes;
    }

    public static async Task<IResult> Generations(HttpRequest request, ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs,
        SignedImageUrls urls, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        if (caller.Identity?.IsAuthenticated != true) return Unauthorized();
        var (body, error) = await RequestBodies.ReadJsonObjectAsync(request, cancellationToken);
        if (error is not null) return Error(error.Status, error.Message, null, error.Status == 413 ? "body_too_large" : "invalid_json");
        try
        {
            var fields = new Fields(
                GenerationFields.String(body, "model"), GenerationFields.String(body, "prompt"),
                body.TryGetProperty("n", out var n) && n.ValueKind != JsonValueKind.Null
                    ? n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) ? count : throw new GenerationFields.FieldException("'n' must be a whole number.")
                    : null,
                GenerationFields.String(body, "size"), GenerationFields.String(body, "response_format"),
                GenerationFields.String(body, "output_format"), null);
            return await RunAsync(fields, request, caller, tasks, outputs, urls, options.Value, cancellationToken);
        }
        catch (GenerationFields.FieldException e)
        {
            return Error(400, e.Message, null, "invalid_type");
        }
    }

    public static async Task<IResult> Edits(HttpRequest request, ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs,
        SignedImageUrls urls, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        if (caller.Identity?.IsAuthenticated != true) return Unauthorized();
        if (request.ContentLength > RequestBodies.MaxBytes) return Error(413, "The request body is too large.", null, "body_too_large");
        if (!request.HasFormContentType) return Error(400, "Send multipart/form-data with an 'image' file and a 'prompt'.", null, "invalid_request");
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException)
        {
            return e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? Error(413, "The request body is too large.", null, "body_too_large")
                : Error(400, $"The multipart body could not be read: {e.Message}", null, "invalid_request");
        }
        if (form.Files.GetFile("mask") is not null) return Error(400, "Masks are not supported; send the whole image to edit.", "mask", "unsupported_parameter");
        var file = form.Files.GetFile("image") ?? form.Files.GetFile("image[]");
        if (file is null) return Error(400, "'image' is required.", "image", "missing_required_parameter");
        using var stream = new MemoryStream();
        await file.CopyToAsync(stream, cancellationToken);

        int? n = null;
        if (form.TryGetValue("n", out var nText) && !string.IsNullOrWhiteSpace(nText))
        {
            if (!int.TryParse(nText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) return Error(400, "'n' must be a whole number.", "n", "invalid_type");
            n = parsed;
        }
        var fields = new Fields(form["model"].ToString().NullIfEmpty(), form["prompt"].ToString().NullIfEmpty(), n,
            form["size"].ToString().NullIfEmpty(), form["response_format"].ToString().NullIfEmpty(),
            form["output_format"].ToString().NullIfEmpty(), new ReferenceImageUpload(stream.ToArray(), file.FileName));
        return await RunAsync(fields, request, caller, tasks, outputs, urls, options.Value, cancellationToken);
    }

    private sealed record Fields(string? Model, string? Prompt, int? N, string? Size, string? ResponseFormat, string? OutputFormat,
        ReferenceImageUpload? Image);

    private static async Task<IResult> RunAsync(Fields fields, HttpRequest request, ClaimsPrincipal caller, TaskService tasks,
        TaskOutputs outputs, SignedImageUrls urls, ApiOptions options, CancellationToken cancellationToken)
    {
        var responseFormat = fields.ResponseFormat ?? "url";
        if (responseFormat is not ("url" or "b64_json"))
            return Error(400, $"'{responseFormat}' is not one of ['url', 'b64_json'] - 'response_format'", "response_format", "invalid_value");
        int? width = null, height = null;
        if (fields.Size is { } size && size != "auto")
        {
            var parts = size.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h))
                return Error(400, $"'{size}' is not a size like '1024x1024'.", "size", "invalid_value");
            (width, height) = (w, h);
        }

        var wait = TimeSpan.FromSeconds(options.SyncWaitSeconds);
        // The same fields (and image bytes) are the same request, whatever the JSON spacing or multipart boundary.
        var canonical = string.Join('\n', fields.Model, fields.Prompt, fields.N, fields.Size, fields.ResponseFormat, fields.OutputFormat,
            fields.Image is { } upload ? IdempotencyStore.HashRequest(upload.Data) : "");
        var submitted = await tasks.SubmitSynchronousAsync(caller.UserId(), new SubmitTaskRequest
        {
            ModelId = fields.Model ?? options.DefaultModel, Prompt = fields.Prompt, ImageCount = fields.N, Width = width, Height = height,
            OutputFormat = fields.OutputFormat, ReferenceImage = fields.Image, Source = "openai",
        }, SynchronousCalls.Identify(request, "openai", canonical, wait), cancellationToken);
        if (!submitted.Succeeded)
        {
            var error = submitted.Error!;
            return Error(ApiProblems.StatusFor(error.Kind), error.Message, Param(error.Field),
                error.Kind == ErrorKind.RefusedByPolicy ? "content_policy_violation" : error.Code);
        }

        var view = await tasks.WaitAsync(submitted.Value!.Id, caller.UserId(), wait, cancellationToken);
        var task = view!.Task;
        if (!task.IsTerminal) SynchronousCalls.DoNotRetry(request.HttpContext.Response);
        if (task.Status != GenerationTaskStatus.Succeeded)
            return Error(task.IsTerminal ? StatusCodes.Status502BadGateway : StatusCodes.Status504GatewayTimeout,
                task.IsTerminal ? task.ErrorMessage ?? "The image could not be generated." : $"Still generating; follow it at /api/v1/tasks/{task.Id}.",
                null, task.ErrorCode ?? "timeout", "server_error");

        var data = new JsonArray();
        var base64 = responseFormat == "b64_json" ? await outputs.Base64Async(task, cancellationToken) : null;
        foreach (var image in task.Images.OrderBy(i => i.Index))
            data.Add(base64 is null
                ? new JsonObject { ["url"] = urls.For(request, task.Id, image.Index), ["revised_prompt"] = task.Prompt }
                : new JsonObject { ["b64_json"] = base64[image.Index], ["revised_prompt"] = task.Prompt });
        return Results.Json(new JsonObject
        {
            ["created"] = new DateTimeOffset(task.CreatedAt).ToUnixTimeSeconds(),
            ["data"] = data,
            ["output_format"] = task.OutputFormat.ToString().ToLowerInvariant(),
            ["size"] = $"{task.Width}x{task.Height}",
        });
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

    private static IResult Unauthorized() =>
        Error(StatusCodes.Status401Unauthorized, "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'.", null, "invalid_api_key");

    private static IResult Error(int status, string message, string? param, string code, string type = "invalid_request_error") =>
        Results.Json(new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
        }, statusCode: status);

    private static string? NullIfEmpty(this string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
