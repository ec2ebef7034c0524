using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Images;
using BananaLab.Core.Tasks;

namespace BananaLab.Worker.Providers.Gemini;

/// <summary>
/// The <c>gemini</c> provider: Google's Gemini API image models ("Nano Banana": <c>gemini-2.5-flash-image</c>,
/// <c>gemini-3-pro-image-preview</c>…) through REST <c>generateContent</c>
/// (https://ai.google.dev/api/generate-content). The catalog entry names the model in <c>RemoteModel</c> and the key in
/// <c>ApiKey</c>, sent in the <c>x-goog-api-key</c> header (never in the URL, which proxies and logs keep); <c>Endpoint</c>
/// replaces <c>https://generativelanguage.googleapis.com</c>. It asks for an image in the task's aspect ratio and hands it
/// to the finishing step. One call makes one image: a task of several images makes that many calls at once, and any call
/// that fails fails the task (the engine retries a transient failure as a whole new attempt).
/// </summary>
public sealed class GeminiImageGenerator(IHttpClientFactory clients) : IImageGenerator
{
    public const string ProviderName = "gemini";
    public const string PublicEndpoint = "https://generativelanguage.googleapis.com";
    /// <summary>The most images one task asks for: as many calls at once.</summary>
    public const int MaxImagesPerTask = 4;

    /// <summary>
    /// Candidate finish reasons that mean the content was refused (the prompt's or the image's), as opposed to
    /// <c>NO_IMAGE</c>, <c>IMAGE_OTHER</c> or <c>OTHER</c>, which mean it simply made none.
    /// </summary>
    private static readonly HashSet<string> RefusalReasons = new(StringComparer.OrdinalIgnoreCase)
    {
        "SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION",
        "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
    };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Provider => ProviderName;

    /// <summary>
    /// Every aspect ratio the product offers (the API takes 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9 and 21:9); one
    /// reference image (the models take several, a task carries one); no seed, steps, guidance, negative prompt, masks or
    /// progress: the API has none of them for image output.
    /// </summary>
    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => new()
    {
        AspectRatios = AspectRatio.Offered,
        MaxReferenceImages = 1,
        MaxBatch = MaxImagesPerTask,
    };

    /// <summary>A remote service: its calls wait on the network, not on this machine.</summary>
    public bool IsRemote => true;

    /// <summary>Eight calls at once per model; Google's rate limits answer 429 beyond what the key allows.</summary>
    public int DefaultConcurrency => 8;

    public string? UnavailableReason(ModelDefinition model) =>
        string.IsNullOrWhiteSpace(model.ApiKey) ? $"Models:{model.Id}:ApiKey is not set" : null;

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        var body = RequestFor(request);
        using var firstFailure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var calls = Enumerable.Range(0, request.ImageCount).Select(async _ =>
        {
            try
            {
                return await CallAsync(request.Model, body, firstFailure.Token);
            }
            catch when (!cancellationToken.IsCancellationRequested)
            {
                await firstFailure.CancelAsync(); // one failure fails the task: the other calls need not go on
                throw;
            }
        }).ToList();
        // A call canceled because another failed ends canceled, so the task fails with that other call's failure.
        var images = await Task.WhenAll(calls);

        var finished = images.Select((image, index) => output.Finish(index, () => new ProducedImage.Encoded(image), cancellationToken)).ToList();
        return new GenerationResult(finished);
    }

    /// <summary>The request body: the prompt, then the reference image inline, and the aspect ratio nearest the task's size.</summary>
    internal static GeminiGenerateRequest RequestFor(GenerationRequest request)
    {
        var parts = new List<GeminiRequestPart> { new(Text: request.Prompt) };
        if (request.ReferenceImagePath is { } path)
        {
            var data = File.ReadAllBytes(path);
            var mimeType = ImageHeader.TryRead(data, out var header, out _) ? header!.ContentType : "image/png";
            parts.Add(new GeminiRequestPart(InlineData: new GeminiRequestBlob(mimeType, Convert.ToBase64String(data))));
        }
        return new GeminiGenerateRequest([new GeminiRequestContent("user", parts)],
            new GeminiGenerationConfig(["IMAGE"], new GeminiImageConfig(NearestRatio(request.Width, request.Height).ToString())));
    }

    /// <summary>The offered aspect ratio closest to <paramref name="width"/> × <paramref name="height"/> (the finishing step crops the rest).</summary>
    internal static AspectRatio NearestRatio(int width, int height) =>
        AspectRatio.Offered.MinBy(r => Math.Abs(Math.Log((double)r.Width / r.Height) - Math.Log((double)width / height)));

    private async Task<byte[]> CallAsync(ModelDefinition model, GeminiGenerateRequest body, CancellationToken cancellationToken)
    {
        var client = clients.CreateClient(ProviderName);
        var uri = new Uri(RemoteHttp.BaseAddress(model, PublicEndpoint), $"v1beta/models/{Uri.EscapeDataString(model.RemoteModel!)}:generateContent");
        using var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent.Create(body, options: Json) }
            .WithTimeout(RemoteHttp.GenerationTimeout(model));
        message.Headers.Add("x-goog-api-key", model.ApiKey);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(message, cancellationToken);
        }
        catch (Exception e) when (RemoteHttp.Unanswered(e, cancellationToken) is { } failure)
        {
            throw failure;
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw await FailureAsync(response, model, cancellationToken);
            GeminiGenerateResponse? answer;
            try
            {
                answer = await response.Content.ReadFromJsonAsync<GeminiGenerateResponse>(Json, cancellationToken);
            }
            catch (JsonException e)
            {
                throw new GenerationException(TaskErrors.NoImage, "The provider's answer held no image.", transient: true, e);
            }
            return ImageOf(answer);
        }
    }

    /// <summary>
    /// The image of an answer: the last image part that is not a draft (<c>thought</c>). A refused prompt
    /// (<c>promptFeedback.blockReason</c>) or image (a refusal <c>finishReason</c>) becomes a <see cref="ProviderRefusedException"/>
    /// with that reason; an answer without an image, or whose image is not base64, is <c>no_image</c>.
    /// </summary>
    internal static byte[] ImageOf(GeminiGenerateResponse? answer)
    {
        if (answer?.PromptFeedback?.BlockReason is { Length: > 0 } blockReason)
            throw new ProviderRefusedException($"Gemini blocked the prompt: {blockReason}");
        var candidate = answer?.Candidates?.FirstOrDefault();
        var image = candidate?.Content?.Parts?.LastOrDefault(p => p.InlineData?.Data is { Length: > 0 } && p.Thought != true)?.InlineData;
        if (image is null && candidate?.FinishReason is { } reason && RefusalReasons.Contains(reason))
            throw new ProviderRefusedException(Shorten($"Gemini refused the image: {reason}" +
                                                       (string.IsNullOrWhiteSpace(candidate.FinishMessage) ? "" : $" ({candidate.FinishMessage})")));
        if (image is null)
            throw new GenerationException(TaskErrors.NoImage,
                $"The provider finished without an image ({candidate?.FinishReason ?? "no candidate"}).", transient: true);
        try
        {
            return Convert.FromBase64String(image.Data!);
        }
        catch (FormatException e)
        {
            throw new GenerationException(TaskErrors.NoImage, "The provider returned an image that could not be decoded.", transient: true, e);
        }
    }

    /// <summary>
    /// An error answer as a failure. Gemini answers a bad key with 400 and <c>ErrorInfo.reason</c> <c>API_KEY_INVALID</c>
    /// (an authentication failure like 401/403), and a 429 with <c>RetryInfo.retryDelay</c> rather than <c>Retry-After</c>.
    /// </summary>
    private static async Task<GenerationException> FailureAsync(HttpResponseMessage response, ModelDefinition model, CancellationToken cancellationToken)
    {
        GeminiError? error = null;
        try
        {
            error = (await response.Content.ReadFromJsonAsync<GeminiErrorResponse>(Json, cancellationToken))?.Error;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            // Not the API's error shape (a proxy's page): the status alone decides.
        }
        var details = error?.Details ?? [];
        if (response.StatusCode == HttpStatusCode.BadRequest && details.Any(d => d.Reason == "API_KEY_INVALID"))
            return RemoteHttp.AuthFailed(model, nameof(ModelDefinition.ApiKey), (int)response.StatusCode);
        var retryDelay = details.Select(d => d.RetryDelay).FirstOrDefault(d => d is not null);
        return RemoteHttp.Failure(response, model, nameof(ModelDefinition.ApiKey), ParseDuration(retryDelay));
    }

    /// <summary>A protobuf JSON duration ("36s", "1.5s") as a delay, or null.</summary>
    private static TimeSpan? ParseDuration(string? duration) =>
        duration is { Length: > 1 } && duration.EndsWith('s')
        && double.TryParse(duration[..^1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;

    private static string Shorten(string reason) => reason.Length <= 300 ? reason : reason[..300] + "…";
}
