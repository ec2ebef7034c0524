using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Errors;
using BananaLab.Core.Generation;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Dialects;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Api.Files;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.OpenAI;

/// <summary>
/// OpenAI-compatible images API (<c>/v1/images/generations</c>, <c>/v1/images/edits</c>, <c>/v1/images/variations</c>) and model
/// list (<c>/v1/models</c>), so OpenAI SDK clients work by changing the base URL
/// (reference: https://platform.openai.com/docs/api-reference/images). Errors use OpenAI's <c>{"error": {...}}</c> envelope
/// (<see cref="OpenAiErrorResponse"/>), also for an unknown address or method under <c>/v1</c>. Every documented parameter is
/// validated and a parameter OpenAI's API does not have is refused by name (<c>unknown_parameter</c>).
/// </summary>
public static class OpenAiImagesApi
{
    /// <summary>The dialect's one name: its tasks' source and its synchronous calls' key.</summary>
    public const string Name = "openai";

    /// <summary>What a variation asks the model for: the given image again, changed as image-to-image changes it.</summary>
    public const string VariationPrompt = "a variation of this image";

    public static IEndpointRouteBuilder MapOpenAiImagesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/images").WithTags("OpenAI images").AllowAnonymous().WithMetadata(Errors, OpenAiExamples.Dialect)
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.TooLarge, ErrorKind.PaymentRequired, ErrorKind.Forbidden,
                ErrorKind.RefusedByPolicy, ErrorKind.Failed, ErrorKind.Timeout);
        group.MapPost("/generations", Generations);
        group.MapPost("/edits", Edits).DisableAntiforgery();
        group.MapPost("/variations", Variations).DisableAntiforgery();
        var models = routes.MapGroup("/v1/models").WithTags("OpenAI images").AllowAnonymous().WithMetadata(Errors)
            .ProducesErrors(ErrorKind.Unauthorized, ErrorKind.NotFound);
        models.MapGet("", ListModels);
        models.MapGet("/{model}", GetModel);
        // Lowest precedence: only what no route above takes reaches it.
        routes.Map("/v1/{**path}", Unmatched).AllowAnonymous().WithMetadata(Errors).DisableAntiforgery().ExcludeFromDescription();
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
        if (body.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !GenerationParameters.Contains(name)) is { } unknown)
            return UnknownParameter(unknown);
        var choices = new Dictionary<string, string>();
        foreach (var name in Choices.Keys)
            if (GenerationFields.String(body, name) is { } value) choices[name] = value;
        var fields = new Fields(
            GenerationFields.String(body, "model"), GenerationFields.String(body, "prompt"), GenerationFields.Int(body, "n"),
            GenerationFields.String(body, "size"), GenerationFields.String(body, "response_format"), choices,
            GenerationFields.Int(body, "output_compression"), null);
        return await RunAsync(fields, request, caller, tasks, outputs, urls, options.Value, cancellationToken);
    }

    /// <summary>
    /// Generates from a multipart request with one <c>image</c> file and a <c>prompt</c> (image-to-image). Masks are not supported;
    /// several <c>image[]</c> parts are refused naming <c>image</c>, since a task takes one reference image.
    /// </summary>
    public static async Task<Results<Ok<OpenAiImagesResponse>, JsonHttpResult<OpenAiErrorResponse>>> Edits(HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs, SignedImageUrls urls, IOptions<ApiOptions> options,
        ModelCatalog catalog, GenerationOffers offers, CancellationToken cancellationToken)
    {
        if (caller.Identity?.IsAuthenticated != true) return Unauthorized();
        var (form, error) = await ReadFormAsync(request, EditParameters, "Send multipart/form-data with an 'image' file and a 'prompt'.", cancellationToken);
        if (error is not null) return error;
        if (form!.Files.GetFile("mask") is not null) return Invalid("Masks are not supported; send the whole image to edit.", "mask", "unsupported_parameter");
        var (fields, invalid) = await ReadMultipartFieldsAsync(form, form["prompt"].ToString().NullIfEmpty(), options.Value, catalog, offers, cancellationToken);
        return invalid ?? await RunAsync(fields!, request, caller, tasks, outputs, urls, options.Value, cancellationToken);
    }

    /// <summary>
    /// A variation of one <c>image</c> (multipart: <c>image</c>, <c>model</c>, <c>n</c>, <c>size</c>, <c>response_format</c>,
    /// <c>user</c>): image-to-image of that image with the prompt <see cref="VariationPrompt"/>, priced and moderated like any task.
    /// </summary>
    public static async Task<Results<Ok<OpenAiImagesResponse>, JsonHttpResult<OpenAiErrorResponse>>> Variations(HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs, SignedImageUrls urls, IOptions<ApiOptions> options,
        ModelCatalog catalog, GenerationOffers offers, CancellationToken cancellationToken)
    {
        if (caller.Identity?.IsAuthenticated != true) return Unauthorized();
        var (form, error) = await ReadFormAsync(request, VariationParameters, "Send multipart/form-data with an 'image' file.", cancellationToken);
        if (error is not null) return error;
        var (fields, invalid) = await ReadMultipartFieldsAsync(form!, VariationPrompt, options.Value, catalog, offers, cancellationToken);
        return invalid ?? await RunAsync(fields!, request, caller, tasks, outputs, urls, options.Value, cancellationToken);
    }

    /// <summary>The catalog's models in OpenAI's list shape (<c>{"object": "list", "data": [{"id", "object", "created", "owned_by"}]}</c>).</summary>
    public static Results<Ok<OpenAiModelList>, JsonHttpResult<OpenAiErrorResponse>> ListModels(ClaimsPrincipal caller, ModelCatalog catalog) =>
        caller.Identity?.IsAuthenticated != true ? Unauthorized() : TypedResults.Ok(new OpenAiModelList(catalog.All.Select(Model).ToList()));

    /// <summary>One model of the catalog, or <c>model_not_found</c> (404).</summary>
    public static Results<Ok<OpenAiModel>, JsonHttpResult<OpenAiErrorResponse>> GetModel(string model, ClaimsPrincipal caller, ModelCatalog catalog)
    {
        if (caller.Identity?.IsAuthenticated != true) return Unauthorized();
        return catalog.Find(model) is { } found
            ? TypedResults.Ok(Model(found))
            : Error(new TaskError(ErrorTypes.NotFound, $"The model '{model}' does not exist."), code: "model_not_found", param: "model");
    }

    /// <summary>
    /// Anything under <c>/v1</c> no route takes: 405 with <c>Allow</c> when the address exists for other methods, 404 otherwise,
    /// in OpenAI's envelope (OpenAI answers "Invalid URL (METHOD /path)").
    /// </summary>
    public static IResult Unmatched(HttpContext context, EndpointDataSource endpoints)
    {
        var path = context.Request.Path.Value ?? "";
        var allowed = endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.TrimStart('/').StartsWith("v1/", StringComparison.Ordinal) && !raw.Contains("**", StringComparison.Ordinal))
            .Where(e => new TemplateMatcher(TemplateParser.Parse(e.RoutePattern.RawText!.TrimStart('/')), new()).TryMatch(path, new()))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            .Distinct().Order().ToList();
        var invalid = $"Invalid URL ({context.Request.Method} {path})";
        if (allowed.Count == 0) return Error(new TaskError(ErrorTypes.NotFound, invalid + ": there is nothing at this address."), code: "unknown_url");
        context.Response.Headers.Allow = string.Join(", ", allowed);
        return Error(new TaskError(ErrorTypes.MethodNotAllowed, $"{invalid}: this address takes {string.Join(", ", allowed)}."), code: "method_not_allowed");
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
            statusCode: StatusFor(error.Kind));
    }

    /// <summary>The status of an error in this dialect: a content-policy refusal is a 400, as OpenAI answers it; the rest as everywhere.</summary>
    public static int StatusFor(ErrorKind kind) =>
        kind == ErrorKind.RefusedByPolicy ? StatusCodes.Status400BadRequest : ApiProblems.StatusFor(kind);

    /// <summary>Attached to the dialect's routes: errors raised outside the handlers are answered in OpenAI's envelope too.</summary>
    public static ApiErrorWriter Errors { get; } = new OpenAiErrors();

    private sealed class OpenAiErrors : ApiErrorWriter
    {
        public override Type EnvelopeType => typeof(OpenAiErrorResponse);
        public override int StatusFor(ErrorKind kind) => OpenAiImagesApi.StatusFor(kind);
        public override IResult Write(TaskError error, HttpContext context) => Error(error);
    }

    /// <summary>
    /// A request's parameters: <paramref name="Choices"/> holds those with a documented set of values (<see cref="Choices"/>),
    /// <paramref name="OutputCompression"/> is 0–100 (accepted, not used: images are encoded at the server's quality).
    /// </summary>
    private sealed record Fields(string? Model, string? Prompt, int? N, string? Size, string? ResponseFormat,
        IReadOnlyDictionary<string, string> Choices, int? OutputCompression, ReferenceImageUpload? Image)
    {
        public string? OutputFormat => Choices.GetValueOrDefault("output_format");
    }

    /// <summary>
    /// The parameters with a documented set of values. <c>quality</c>, <c>style</c>, <c>moderation</c> and <c>input_fidelity</c>
    /// are accepted and have no effect (steps and moderation are the model's and the server's); <c>background</c> takes
    /// <c>auto</c> and <c>opaque</c> (the models make opaque images, so <c>transparent</c> is refused).
    /// </summary>
    private static readonly Dictionary<string, string[]> Choices = new()
    {
        ["quality"] = ["auto", "high", "medium", "low", "hd", "standard"],
        ["style"] = ["vivid", "natural"],
        ["moderation"] = ["auto", "low"],
        ["background"] = ["auto", "opaque", "transparent"],
        ["output_format"] = ["png", "jpeg", "webp"],
        ["input_fidelity"] = ["high", "low"],
    };

    /// <summary>What each endpoint takes (<c>user</c> is accepted and ignored; <c>stream</c> and <c>partial_images</c> are read elsewhere).</summary>
    private static readonly HashSet<string> GenerationParameters =
    [
        "model", "prompt", "n", "size", "response_format", "output_format", "quality", "style", "moderation", "output_compression",
        "background", "user", "stream", "partial_images",
    ];

    private static readonly HashSet<string> EditParameters =
    [
        "image", "image[]", "mask", "model", "prompt", "n", "size", "response_format", "output_format", "quality", "output_compression",
        "background", "input_fidelity", "user", "stream", "partial_images",
    ];

    private static readonly HashSet<string> VariationParameters = ["image", "image[]", "model", "n", "size", "response_format", "user"];

    /// <summary>The multipart form, or the error answering a body that is not one, is too large, or has a part the endpoint does not take.</summary>
    private static async Task<(IFormCollection? Form, JsonHttpResult<OpenAiErrorResponse>? Error)> ReadFormAsync(HttpRequest request,
        HashSet<string> parameters, string expected, CancellationToken cancellationToken)
    {
        if (request.ContentLength > RequestBodies.MaxBytes) return (null, Error(RequestBodies.TooLarge()));
        if (!request.HasFormContentType) return (null, Error(TaskErrors.InvalidRequest(expected)));
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException)
        {
            return (null, Error(e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? RequestBodies.TooLarge()
                : TaskErrors.InvalidRequest($"The multipart body could not be read: {e.Message}")));
        }
        var unknown = form.Keys.Concat(form.Files.Select(f => f.Name)).FirstOrDefault(name => !parameters.Contains(name));
        return unknown is null ? (form, null) : (null, UnknownParameter(unknown));
    }

    /// <summary>
    /// The fields of an edit or a variation: its one image (several are refused naming <c>image</c>: a task takes one reference
    /// image, and the model may take none), <c>n</c> as a whole number (<c>2</c> or <c>2.0</c>) and the documented choices.
    /// </summary>
    private static async Task<(Fields? Fields, JsonHttpResult<OpenAiErrorResponse>? Error)> ReadMultipartFieldsAsync(IFormCollection form,
        string? prompt, ApiOptions options, ModelCatalog catalog, GenerationOffers offers, CancellationToken cancellationToken)
    {
        var model = form["model"].ToString().NullIfEmpty();
        var files = form.Files.GetFiles("image").Concat(form.Files.GetFiles("image[]")).ToList();
        if (files.Count == 0) return (null, Invalid("'image' is required.", "image", "missing_required_parameter"));
        if (files.Count > 1)
        {
            var found = catalog.Find(model ?? options.DefaultModel);
            var takes = Math.Min(found is null ? 1 : offers.CapabilitiesOf(found)?.MaxReferenceImages ?? 1, 1);
            return (null, Invalid($"{files.Count} images were sent in 'image', but {found?.Id ?? model} takes {takes} reference image{(takes == 1 ? "" : "s")} " +
                "per request here; send one image.", "image", "invalid_value"));
        }
        using var stream = new MemoryStream();
        await files[0].CopyToAsync(stream, cancellationToken);

        int? n = null, compression = null;
        if (form["n"].ToString().NullIfEmpty() is { } nText)
        {
            if (!TryParseWhole(nText, out var parsed)) return (null, Invalid("'n' must be a whole number.", "n", "invalid_type"));
            n = parsed;
        }
        if (form["output_compression"].ToString().NullIfEmpty() is { } compressionText)
        {
            if (!TryParseWhole(compressionText, out var parsed)) return (null, Invalid("'output_compression' must be a whole number.", "output_compression", "invalid_type"));
            compression = parsed;
        }
        var choices = Choices.Keys.Where(k => form[k].ToString().NullIfEmpty() is not null).ToDictionary(k => k, k => form[k].ToString());
        return (new Fields(model, prompt, n, form["size"].ToString().NullIfEmpty(), form["response_format"].ToString().NullIfEmpty(), choices,
            compression, new ReferenceImageUpload(stream.ToArray(), files[0].FileName)), null);
    }

    /// <summary>A whole number as a form sends it: <c>2</c>, or <c>2.0</c> from a client that formats a float.</summary>
    private static bool TryParseWhole(string text, out int value)
    {
        value = 0;
        if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number != decimal.Truncate(number)
            || number is < int.MinValue or > int.MaxValue) return false;
        value = (int)number;
        return true;
    }

    /// <summary>Why a documented parameter's value cannot be used, or null.</summary>
    private static JsonHttpResult<OpenAiErrorResponse>? CheckOptions(Fields fields)
    {
        foreach (var (name, value) in fields.Choices)
            if (!Choices[name].Contains(value, StringComparer.Ordinal))
                return Invalid($"Invalid value: '{value}'. Supported values are: {string.Join(", ", Choices[name].Select(v => $"'{v}'"))}.", name, "invalid_value");
        if (fields.Choices.GetValueOrDefault("background") == "transparent")
            return Invalid("background 'transparent' is not supported: these models make opaque images. Use 'opaque' or 'auto'.", "background", "unsupported_value");
        if (fields.OutputCompression is < 0 or > 100)
            return Invalid($"Invalid value: {fields.OutputCompression}. 'output_compression' must be between 0 and 100.", "output_compression", "invalid_value");
        return null;
    }

    private static async Task<Results<Ok<OpenAiImagesResponse>, JsonHttpResult<OpenAiErrorResponse>>> RunAsync(Fields fields, HttpRequest request,
        ClaimsPrincipal caller, TaskService tasks, TaskOutputs outputs, SignedImageUrls urls, ApiOptions options, CancellationToken cancellationToken)
    {
        if (CheckOptions(fields) is { } refused) return refused;
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

    /// <summary>
    /// OpenAI's name for a field: the engine's request fields mapped to this dialect's, a field named as sent (a type error's
    /// <c>n</c>) kept; null for an engine field OpenAI's API does not have.
    /// </summary>
    private static string? Param(string? field) => field switch
    {
        nameof(SubmitTaskRequest.ModelId) => "model",
        nameof(SubmitTaskRequest.Prompt) => "prompt",
        nameof(SubmitTaskRequest.ImageCount) => "n",
        nameof(SubmitTaskRequest.Size) => "size",
        nameof(SubmitTaskRequest.ReferenceImage) => "image",
        nameof(SubmitTaskRequest.OutputFormat) => "output_format",
        not null when GenerationParameters.Contains(field) || EditParameters.Contains(field) => field,
        _ => null,
    };

    private static OpenAiModel Model(ModelDefinition model) => new(model.Id, Started, model.Provider);

    /// <summary>When this server started, as every model's <c>created</c>: the catalog is read from configuration at start.</summary>
    private static readonly long Started = new DateTimeOffset(System.Diagnostics.Process.GetCurrentProcess().StartTime).ToUnixTimeSeconds();

    private static JsonHttpResult<OpenAiErrorResponse> UnknownParameter(string name) =>
        Invalid($"Unknown parameter: '{name}'.", name, "unknown_parameter");

    /// <summary>A parameter OpenAI's API has, refused with OpenAI's own code for why.</summary>
    private static JsonHttpResult<OpenAiErrorResponse> Invalid(string message, string param, string code) =>
        Error(TaskErrors.InvalidRequest(message, param), code, param);

    private static JsonHttpResult<OpenAiErrorResponse> Unauthorized() =>
        Error(new TaskError(ErrorTypes.Unauthorized, "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'."));

    private static string? NullIfEmpty(this string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
