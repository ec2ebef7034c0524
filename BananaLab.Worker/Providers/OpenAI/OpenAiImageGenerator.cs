using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using Microsoft.Extensions.Configuration;
using OpenAI;
using OpenAI.Images;
using GeneratedImage = BananaLab.Core.Generation.GeneratedImage;

#pragma warning disable OPENAI001 // output_format is marked experimental in the SDK; the API has taken it since GPT Image.

namespace BananaLab.Worker.Providers.OpenAI;

/// <summary>
/// The <c>openai</c> provider: the OpenAI Images API through the official OpenAI .NET SDK
/// (https://platform.openai.com/docs/api-reference/images). Text-to-image calls <c>POST {Endpoint}/images/generations</c>;
/// a task with a reference image calls <c>POST {Endpoint}/images/edits</c> with it. One request asks for all of a task's
/// images (<c>n</c>) as base64 (<c>b64_json</c>), so nothing is downloaded afterwards, at the size of the model's family
/// nearest the task's (<see cref="OpenAiModelFamily"/>); the worker's finishing step brings each to the exact tier size.
/// <c>Endpoint</c> (up to and including <c>/v1</c>) points it at any OpenAI-compatible server instead of OpenAI.
/// The key is <c>Models:id:ApiKey</c>; for a model on OpenAI's own endpoint, <c>OPENAI_API_KEY</c> from the environment
/// when that is not set (never for another endpoint: that would hand an OpenAI key to a third party).
/// Failures: see <see cref="OpenAiFailures"/>; a network timeout past <c>TimeoutSeconds</c> is <c>provider_timeout</c>, and an
/// answer without an image, or with one that is not base64 or not an image, is <c>no_image</c>.
/// </summary>
public sealed class OpenAiImageGenerator(IHttpClientFactory httpClients, IConfiguration configuration) : IImageGenerator
{
    /// <summary>The name catalog entries give as <c>Models:*:Provider</c>.</summary>
    public const string Name = "openai";

    /// <summary>The named client of <see cref="IHttpClientFactory"/> the SDK sends through.</summary>
    public const string HttpClientName = "BananaLab.Providers.OpenAI";

    /// <summary>The environment variable OpenAI's own tools read, used for models on OpenAI's endpoint without an <c>ApiKey</c>.</summary>
    public const string KeyVariable = "OPENAI_API_KEY";

    public string Provider => Name;

    /// <summary>Its models run at OpenAI or another server: their tasks take a pool of their own, not the local models' slots.</summary>
    public bool IsRemote => true;

    /// <summary>Remote calls wait on the network, not on this machine: eight at a time unless the catalog says otherwise.</summary>
    public int DefaultConcurrency => 8;

    /// <summary>
    /// The product's aspect ratios (the finishing step crops the nearest size the model makes); no exact sizes, seed, steps,
    /// guidance or negative prompt, which the Images API does not take; one reference image where the model has edits; no
    /// masks (the product has no way to draw one yet); no progress or previews (one request answers with the finished
    /// images); as many images a task as one request's <c>n</c> allows.
    /// </summary>
    public GenerationCapabilities CapabilitiesFor(ModelDefinition model)
    {
        var family = OpenAiModelFamily.Of(model);
        return new GenerationCapabilities
        {
            AspectRatios = AspectRatio.Offered,
            MaxReferenceImages = family.TakesEdits ? 1 : 0,
            MaxBatch = family.MaxBatch,
        };
    }

    public string? UnavailableReason(ModelDefinition model) => KeyOf(model) is null ? $"Models:{model.Id}:ApiKey is not set." : null;

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        var model = request.Model;
        var key = KeyOf(model) ?? throw new GenerationException(GenerationErrors.ProviderAuthFailed,
            $"Models:{model.Id}:ApiKey is not set.");
        var family = OpenAiModelFamily.Of(model);
        var (width, height) = family.SizeFor(model, request.Width, request.Height);
        var client = Client(model, key);

        GeneratedImageCollection images;
        try
        {
            images = request.ReferenceImagePath is { } reference
                ? await EditAsync(client, family, request, reference, new GeneratedImageSize(width, height), cancellationToken)
                : await GenerateAsync(client, family, request, new GeneratedImageSize(width, height), cancellationToken);
        }
        catch (ClientResultException e)
        {
            throw OpenAiFailures.From(e, model, key);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw OpenAiFailures.Unreachable(model, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The SDK's network timeout (TimeoutSeconds) ran out a moment before the worker's own.
            throw new GenerationException(TaskErrors.ProviderTimeout, $"The model did not finish within {model.TimeoutSeconds} seconds.");
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            // A 200 whose body is not the images response, or whose b64_json is not base64.
            throw new GenerationException(TaskErrors.NoImage, "The provider's answer held no readable image.", transient: true);
        }

        if (images.Count == 0)
            throw new GenerationException(TaskErrors.NoImage, "The provider finished without producing an image.", transient: true);
        var finished = new List<GeneratedImage>();
        foreach (var (image, index) in images.Take(request.ImageCount).Select((image, index) => (image, index)))
        {
            if (image.ImageBytes is not { } bytes)
                throw new GenerationException(TaskErrors.NoImage, "The provider answered with a link instead of the image's bytes.", transient: true);
            finished.Add(output.Finish(index, () => new ProducedImage.Encoded(bytes.ToArray()), cancellationToken));
        }
        return new GenerationResult(finished);
    }

    private static async Task<GeneratedImageCollection> GenerateAsync(ImageClient client, OpenAiModelFamily family, GenerationRequest request,
        GeneratedImageSize size, CancellationToken cancellationToken)
    {
        var options = new ImageGenerationOptions { Size = size };
        if (family.AsksBase64) options.ResponseFormat = GeneratedImageFormat.Bytes;
        if (family.TakesOutputFormat) options.OutputFileFormat = FileFormat(request.OutputFormat);
        return (await client.GenerateImagesAsync(request.Prompt, request.ImageCount, options, cancellationToken)).Value;
    }

    private static async Task<GeneratedImageCollection> EditAsync(ImageClient client, OpenAiModelFamily family, GenerationRequest request,
        string reference, GeneratedImageSize size, CancellationToken cancellationToken)
    {
        var options = new ImageEditOptions { Size = size };
        if (family.AsksBase64) options.ResponseFormat = GeneratedImageFormat.Bytes;
        if (family.TakesOutputFormat) options.OutputFileFormat = FileFormat(request.OutputFormat);
        await using var image = File.OpenRead(reference);
        return (await client.GenerateImageEditsAsync(image, Path.GetFileName(reference), request.Prompt, request.ImageCount, options,
            cancellationToken)).Value;
    }

    /// <summary>
    /// A client for one call: the model's endpoint and key over the named <see cref="HttpClient"/>, with the SDK's own retries off
    /// (the task engine retries transient failures, after the provider's Retry-After, counting them against
    /// <c>Worker:MaxAttempts</c>; retries inside one attempt would multiply that limit and hide a 429 from it) and a network
    /// timeout of the model's <c>TimeoutSeconds</c>, the time the worker gives the whole run.
    /// </summary>
    private ImageClient Client(ModelDefinition model, string key)
    {
        var options = new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(httpClients.CreateClient(HttpClientName)),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(model.TimeoutSeconds),
        };
        if (!string.IsNullOrWhiteSpace(model.Endpoint)) options.Endpoint = new Uri(model.Endpoint.TrimEnd('/'));
        return new ImageClient(model.RemoteModel!.Trim(), new ApiKeyCredential(key), options);
    }

    /// <summary>The model's key: its <c>ApiKey</c>, or on OpenAI's own endpoint <c>OPENAI_API_KEY</c>; null when neither is set.</summary>
    private string? KeyOf(ModelDefinition model)
    {
        if (!string.IsNullOrWhiteSpace(model.ApiKey)) return model.ApiKey.Trim();
        return OpenAiModelFamily.IsOpenAiEndpoint(model) && configuration[KeyVariable] is { Length: > 0 } fallback && !string.IsNullOrWhiteSpace(fallback)
            ? fallback.Trim()
            : null;
    }

    private static GeneratedImageFileFormat FileFormat(OutputFormat format) => format switch
    {
        OutputFormat.Jpeg => GeneratedImageFileFormat.Jpeg,
        OutputFormat.Webp => GeneratedImageFileFormat.Webp,
        _ => GeneratedImageFileFormat.Png,
    };
}
