using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using Microsoft.Extensions.Logging;
using SkiaSharp;

namespace BananaLab.Worker.Providers.Automatic1111;

/// <summary>
/// The <c>automatic1111</c> provider: a Stable Diffusion WebUI (AUTOMATIC1111) or Forge server's API, so a GPU owner's own
/// install becomes a model (https://github.com/AUTOMATIC1111/stable-diffusion-webui/wiki/API). <c>Endpoint</c> is the server's
/// base URL (required: there is no public one); <c>RemoteModel</c>, when set, is the checkpoint to use
/// (<c>sd_model_checkpoint</c>, per request); <c>ApiKey</c>, when the server runs with <c>--api-auth user:pass</c>, is
/// <c>user:pass</c>, sent as HTTP Basic. Text-to-image calls <c>/sdapi/v1/txt2img</c>, a reference image
/// <c>/sdapi/v1/img2img</c>. While a call runs it polls <c>/sdapi/v1/progress</c> and reports each sampling step with the
/// server's preview; a canceled run (a cancel, the timeout, a shutdown) sends <c>/sdapi/v1/interrupt</c> so the GPU stops.
/// The server's progress is global, not per job, so one server runs one task at a time: 1 by default, and a lock per
/// <c>Endpoint</c> keeps two catalog entries of one server from overlapping in this process.
/// </summary>
public sealed class Automatic1111ImageGenerator(IHttpClientFactory clients, ILogger<Automatic1111ImageGenerator> logger) : IImageGenerator
{
    public const string ProviderName = "automatic1111";
    /// <summary>The long side of what the server makes when the entry sets no <c>NativeWidth</c>/<c>NativeHeight</c> (an SDXL checkpoint's).</summary>
    public const int DefaultLongSide = 1024;
    public const int MaxImagesPerCall = 8;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G'];
    private static readonly TimeSpan ShortCall = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _servers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How often a running call's progress is asked for.</summary>
    internal TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    public string Provider => ProviderName;

    /// <summary>
    /// The server's GPU does the work, so its models leave this machine's slots free; one task at a time, since its progress is
    /// global (the per-Endpoint lock keeps two catalog entries on one server from overlapping too).
    /// </summary>
    public bool IsRemote => true;

    /// <summary>
    /// Every offered aspect ratio (made at the model's native size, the finishing step brings it to the tier), seed, steps,
    /// guidance, negative prompt, one reference image, progress with previews, up to 8 images a call. No exact sizes: the
    /// checkpoint makes its native size, and the tiers are the product's sizes. No masks (inpainting is left out).
    /// </summary>
    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => new()
    {
        AspectRatios = AspectRatio.Offered,
        Seed = true,
        Steps = true,
        Guidance = true,
        NegativePrompt = true,
        MaxReferenceImages = 1,
        Progress = true,
        Previews = true,
        MaxBatch = MaxImagesPerCall,
    };

    public string? UnavailableReason(ModelDefinition model) =>
        string.IsNullOrWhiteSpace(model.Endpoint) ? $"Models:{model.Id}:Endpoint is not set (the WebUI server's address)" : null;

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        var model = request.Model;
        if (UnavailableReason(model) is { } reason) throw new GenerationException(GenerationErrors.ModelUnavailable, reason + ".");
        var server = RemoteHttp.BaseAddress(model, model.Endpoint!);
        var gate = _servers.GetOrAdd(server.AbsoluteUri, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var images = await RunAsync(request, server, progress, cancellationToken);
            var finished = images.Select((image, index) => output.Finish(index, () => new ProducedImage.Encoded(image), cancellationToken)).ToList();
            return new GenerationResult(finished);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>One call, with its progress polled beside it; on cancellation the server is told to stop.</summary>
    private async Task<byte[][]> RunAsync(GenerationRequest request, Uri server, IGenerationProgress progress, CancellationToken cancellationToken)
    {
        var model = request.Model;
        var path = request.ReferenceImagePath is null ? "sdapi/v1/txt2img" : "sdapi/v1/img2img";
        using var message = Request(HttpMethod.Post, new Uri(server, path), model, RemoteHttp.GenerationTimeout(model));
        message.Content = JsonContent.Create(Body(request), options: Json);
        using var polling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var poll = PollAsync(server, model, progress, polling.Token);
        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(ProviderName).SendAsync(message, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await InterruptAsync(server, model);
            throw;
        }
        catch (Exception e) when (RemoteHttp.Unanswered(e, cancellationToken) is { } failure)
        {
            throw failure;
        }
        finally
        {
            await polling.CancelAsync();
            await poll.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode) throw RemoteHttp.Failure(response, model, nameof(ModelDefinition.ApiKey));
            Automatic1111GenerateResponse? answer;
            try
            {
                answer = await response.Content.ReadFromJsonAsync<Automatic1111GenerateResponse>(Json, cancellationToken);
            }
            catch (JsonException e)
            {
                throw new GenerationException(TaskErrors.NoImage, "The server's answer held no image.", transient: true, e);
            }
            return ImagesOf(answer, request.ImageCount);
        }
    }

    /// <summary>The request body: the task's parameters at the model's native size in the task's aspect ratio.</summary>
    internal static Automatic1111GenerateRequest Body(GenerationRequest request)
    {
        var (width, height) = NativeSize(request.Model, request.Width, request.Height);
        var body = new Automatic1111GenerateRequest(request.Prompt, request.NegativePrompt ?? "", request.Seed, request.Steps, request.Guidance,
            width, height, request.ImageCount)
        {
            OverrideSettings = string.IsNullOrWhiteSpace(request.Model.RemoteModel)
                ? null
                : new Dictionary<string, string> { ["sd_model_checkpoint"] = request.Model.RemoteModel.Trim() },
        };
        return request.ReferenceImagePath is { } path
            ? body with { InitImages = [Convert.ToBase64String(File.ReadAllBytes(path))], DenoisingStrength = Math.Clamp(request.ReferenceStrength, 0, 1) }
            : body;
    }

    /// <summary>
    /// The size to ask for: the model's native long side (<c>NativeWidth</c>/<c>NativeHeight</c>, else
    /// <see cref="DefaultLongSide"/>) in the aspect ratio of <paramref name="width"/> × <paramref name="height"/>, both edges
    /// multiples of 8 (what the server's latent space needs).
    /// </summary>
    internal static (int Width, int Height) NativeSize(ModelDefinition model, int width, int height)
    {
        var longSide = Math.Max(model.NativeWidth, model.NativeHeight) is > 0 and var native ? native : DefaultLongSide;
        static int RoundTo8(double value) => Math.Max(64, (int)Math.Round(value / 8) * 8);
        return width >= height
            ? (RoundTo8(longSide), RoundTo8(longSide * (double)height / width))
            : (RoundTo8(longSide * (double)width / height), RoundTo8(longSide));
    }

    /// <summary>
    /// The task's images of an answer: the last <paramref name="count"/> (a server that returns a grid of the batch puts it
    /// first); fewer than asked for, or one that is not base64, is <c>no_image</c>.
    /// </summary>
    internal static byte[][] ImagesOf(Automatic1111GenerateResponse? answer, int count)
    {
        var images = answer?.Images ?? [];
        if (images.Count < count)
            throw new GenerationException(TaskErrors.NoImage, images.Count == 0
                ? "The server finished without an image."
                : $"The server made {images.Count} of {count} images.", transient: true);
        try
        {
            return images.Skip(images.Count - count).Select(Base64).ToArray();
        }
        catch (FormatException e)
        {
            throw new GenerationException(TaskErrors.NoImage, "The server returned an image that could not be decoded.", transient: true, e);
        }
    }

    /// <summary>Reports each new sampling step (with the server's preview, as PNG) until <paramref name="cancellationToken"/> fires.</summary>
    private async Task PollAsync(Uri server, ModelDefinition model, IGenerationProgress progress, CancellationToken cancellationToken)
    {
        var client = clients.CreateClient(ProviderName);
        var last = (Step: 0, Steps: 0);
        using var timer = new PeriodicTimer(PollInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            Automatic1111Progress? state;
            try
            {
                using var message = Request(HttpMethod.Get, new Uri(server, "sdapi/v1/progress?skip_current_image=false"), model, ShortCall);
                using var response = await client.SendAsync(message, cancellationToken);
                if (!response.IsSuccessStatusCode) continue;
                state = await response.Content.ReadFromJsonAsync<Automatic1111Progress>(Json, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Progress is a courtesy: a poll that fails leaves the bar where it was, and the call goes on.
                logger.LogDebug(e, "A progress poll of model {Model} failed", model.Id);
                continue;
            }
            if (state?.State is not { JobCount: > 0, SamplingSteps: > 0 } job || (job.SamplingStep, job.SamplingSteps) == last) continue;
            last = (job.SamplingStep, job.SamplingSteps);
            progress.Report(new GenerationProgress(job.SamplingStep, job.SamplingSteps, PreviewPng(state.CurrentImage)));
        }
    }

    /// <summary>The server's preview as PNG (it sends its samples format: PNG, JPEG or WebP), or null when there is none or it does not decode.</summary>
    internal static byte[]? PreviewPng(string? base64)
    {
        if (string.IsNullOrEmpty(base64)) return null;
        try
        {
            var data = Base64(base64);
            if (data.AsSpan().StartsWith(PngSignature)) return data;
            using var bitmap = SKBitmap.Decode(data);
            if (bitmap is null) return null;
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            return png.ToArray();
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Asks the server to stop its job; a server that does not answer has nothing more to lose.</summary>
    private async Task InterruptAsync(Uri server, ModelDefinition model)
    {
        try
        {
            using var message = Request(HttpMethod.Post, new Uri(server, "sdapi/v1/interrupt"), model, ShortCall);
            using var response = await clients.CreateClient(ProviderName).SendAsync(message, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning("Could not interrupt the run of model {Model} on its server: {Error}", model.Id, e.GetType().Name);
        }
    }

    /// <summary>A request to the server, with HTTP Basic from <c>ApiKey</c> (<c>user:pass</c>) when set.</summary>
    private static HttpRequestMessage Request(HttpMethod method, Uri uri, ModelDefinition model, TimeSpan timeout)
    {
        var message = new HttpRequestMessage(method, uri).WithTimeout(timeout);
        if (!string.IsNullOrEmpty(model.ApiKey))
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(model.ApiKey)));
        return message;
    }

    /// <summary>Base64, with or without a <c>data:image/…;base64,</c> prefix.</summary>
    private static byte[] Base64(string value) =>
        Convert.FromBase64String(value.StartsWith("data:", StringComparison.Ordinal) ? value[(value.IndexOf(',') + 1)..] : value);
}
