using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Images;
using BananaLab.Core.Storage;
using BananaLab.Core.Webhooks;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Tasks;

/// <summary>
/// Checks one <see cref="SubmitTaskRequest"/> against the catalog, the model's provider (<see cref="GenerationOffers"/>),
/// the storage limits and the webhook address policy, and prices it. Pure: it reads no database and changes nothing, so
/// the studio's live price, <c>GET /api/v1/price</c> and every submission give the same answer and the same errors.
/// </summary>
public sealed class SubmissionValidator(
    ModelCatalog catalog,
    GenerationOffers offers,
    OutboundAddressPolicy outboundAddresses,
    IOptions<StorageOptions> storage)
{
    /// <summary>The longest prompt (and negative prompt) taken, in UTF-16 characters.</summary>
    public const int MaxPromptLength = 4000;

    /// <summary>
    /// The credit cost of a request, exactly as a submission would reserve it. <paramref name="width"/> and
    /// <paramref name="height"/> (64..4096 px, both or neither) override <paramref name="size"/> ("1K", "2K", "4K";
    /// default 1K) and <paramref name="aspectRatio"/>; the exact size is priced at the tier covering its longest edge.
    /// Errors: <c>model_required</c>, <c>model_not_found</c>, <c>invalid_size</c>, <c>invalid_aspect_ratio</c>,
    /// <c>size_not_offered</c>, <c>count_out_of_range</c>, and what the model's provider does not make.
    /// </summary>
    public Outcome<PriceQuote> Quote(string? modelId, string? size, int? imageCount, string? aspectRatio = null,
        int? width = null, int? height = null)
    {
        if (string.IsNullOrWhiteSpace(modelId)) return TaskErrors.ModelRequired();
        var model = catalog.Find(modelId);
        if (model is null) return TaskErrors.ModelNotFound(modelId);

        SizeTier tier;
        int pixelWidth, pixelHeight;
        if (width is not null || height is not null)
        {
            if (width is null || height is null)
                return TaskErrors.InvalidSize("Give both width and height, or neither.");
            if (width < SizeTiers.MinEdge || width > SizeTiers.MaxEdge || height < SizeTiers.MinEdge || height > SizeTiers.MaxEdge)
                return TaskErrors.InvalidSize($"Width and height must be between {SizeTiers.MinEdge} and {SizeTiers.MaxEdge} pixels.");
            (pixelWidth, pixelHeight) = (width.Value, height.Value);
            tier = SizeTiers.Covering(pixelWidth, pixelHeight);
        }
        else
        {
            if (!SizeTiers.TryParse(string.IsNullOrWhiteSpace(size) ? "1K" : size, out tier))
                return TaskErrors.InvalidSize($"'{size}' is not a size; use 1K, 2K or 4K.");
            if (!AspectRatio.TryParse(aspectRatio, out var ratio)) return TaskErrors.InvalidAspectRatio(aspectRatio!);
            (pixelWidth, pixelHeight) = SizeTiers.PixelSize(tier, ratio);
        }
        if (!model.Offers(tier))
            return TaskErrors.SizeNotOffered(model.Id, tier.Label(), model.OfferedTiers.Select(t => t.Label()));

        var count = imageCount ?? 1;
        if (count < 1 || count > model.MaxImages) return TaskErrors.CountOutOfRange(model.MaxImages);
        var exact = width is not null || height is not null;
        // An exact size that is a tier's own size at an offered ratio (an OpenAI client's "1024x1024") is that tier, for a
        // model that makes tier sizes only: the same image, at the same price, so there is nothing to refuse.
        if (exact && offers.CapabilitiesOf(model) is { ExactSizes: false } capabilities &&
            capabilities.AspectRatios.FirstOrDefault(r => SizeTiers.PixelSize(tier, r) == (pixelWidth, pixelHeight)) is { Width: > 0 } same)
            (exact, aspectRatio) = (false, same.ToString());
        if (offers.CheckQuote(model, exact, aspectRatio, count) is { } refused) return refused;
        return new PriceQuote(model.Id, tier, pixelWidth, pixelHeight, count, model.PriceOf(tier));
    }

    /// <summary>
    /// Every field of a submission, in the order a user fixes them: the price (<see cref="Quote"/>), the prompt, the
    /// parameters the model's provider takes and their ranges, the output format, the webhook URL, and the reference
    /// image's size, format and pixel count (its header is read first, then every pixel is decoded and the EXIF orientation
    /// applied: <see cref="IncomingImage.Take"/>), all before anything is reserved.
    /// </summary>
    public Outcome<ValidatedSubmission> Validate(SubmitTaskRequest request)
    {
        var priced = Quote(request.ModelId, request.Size, request.ImageCount, request.AspectRatio, request.Width, request.Height);
        if (!priced.Succeeded) return priced.Error!;
        var quote = priced.Value!;
        var model = catalog.Find(quote.ModelId)!;

        if (!PromptText.HasVisibleText(request.Prompt)) return TaskErrors.PromptRequired();
        if (request.Prompt.Length > MaxPromptLength || request.NegativePrompt?.Length > MaxPromptLength)
            return TaskErrors.PromptTooLong(MaxPromptLength);
        if (offers.CheckParameters(model, request) is { } notTaken) return notTaken;
        if (offers.CheckPromptTokens(model, request) is { } tooLong) return tooLong;
        if (request.Steps is { } steps && (steps < 1 || steps > model.MaxSteps)) return TaskErrors.InvalidSteps(model.MaxSteps);
        if (request.Guidance is { } guidance && (double.IsNaN(guidance) || guidance < 0 || guidance > 30)) return TaskErrors.InvalidGuidance();
        if (request.Seed is { } seed && (seed < 0 || seed > uint.MaxValue)) return TaskErrors.InvalidSeed();
        if (!OutputFormats.TryParse(request.OutputFormat, out var format)) return TaskErrors.InvalidOutputFormat(request.OutputFormat!);
        if (request.ReferenceStrength is { } strength && (double.IsNaN(strength) || strength < 0 || strength > 1))
            return TaskErrors.InvalidStrength();
        if (!ReferenceFits.TryParse(request.ReferenceFit, out var fit))
            return TaskErrors.InvalidRequest($"referenceFit '{request.ReferenceFit}' is not one of 'cover', 'contain'.", nameof(SubmitTaskRequest.ReferenceFit));
        if (request.WebhookUrl is not null && !outboundAddresses.TryValidateUrl(request.WebhookUrl, out var webhookError))
            return TaskErrors.InvalidWebhookUrl(webhookError);

        CheckedReference? reference = null;
        if (request.ReferenceImage is { } upload)
        {
            if (upload.Data.Length == 0) return TaskErrors.ReferenceImageMissing();
            var limits = storage.Value;
            if (upload.Data.Length > limits.MaxReferenceImageBytes)
                return TaskErrors.ReferenceImageUnreadable($"the file is larger than {limits.MaxReferenceImageBytes / (1024 * 1024)} MB.");
            if (!ImageHeader.TryRead(upload.Data, out var header, out var error)) return TaskErrors.ReferenceImageUnreadable(error);
            if (header!.Pixels > limits.MaxReferenceImagePixels)
                return TaskErrors.ReferenceImageUnreadable($"{header.Width}×{header.Height} is more than {limits.MaxReferenceImagePixels:N0} pixels.");
            if (IncomingImage.Take(upload.Data, header, out error) is not { } taken) return TaskErrors.ReferenceImageUnreadable(error);
            reference = new CheckedReference(taken.Header, taken.Data);
        }
        if (request.MaskImage is { } mask)
        {
            if (reference is null) return TaskErrors.InvalidMask("A mask needs the image it applies to.");
            if (!ImageHeader.TryRead(mask.Data, out var maskHeader, out var maskError)) return TaskErrors.InvalidMask($"The mask could not be read: {maskError}");
            if (maskHeader!.ContentType != "image/png" || !ImageHeader.PngHasAlpha(mask.Data))
                return TaskErrors.InvalidMask("The mask must be a PNG with transparency: its transparent pixels mark what to repaint.");
            if ((maskHeader.Width, maskHeader.Height) != (reference.Header.Width, reference.Header.Height))
                return TaskErrors.InvalidMask($"The mask is {maskHeader.Width}×{maskHeader.Height}; it must be the size of the image, " +
                                              $"{reference.Header.Width}×{reference.Header.Height}.");
            if (ImageDecoding.Verify(mask.Data, out var damaged) is null) return TaskErrors.InvalidMask($"The mask could not be read: {damaged}");
            reference = reference with { Mask = mask.Data };
        }
        return new ValidatedSubmission(quote, model, reference, format, fit);
    }
}

/// <summary>A submission that passed <see cref="SubmissionValidator.Validate"/>: its price, model, reference and output format.</summary>
public sealed record ValidatedSubmission(PriceQuote Quote, ModelDefinition Model, CheckedReference? Reference, OutputFormat Format,
    ReferenceFit ReferenceFit = ReferenceFit.Cover);

/// <summary>
/// A reference image within the size and pixel limits, fully decoded, and upright (<see cref="IncomingImage"/>), with its
/// mask (a fully decoded PNG of the same upright size with transparency) when the request repaints part of it.
/// </summary>
public sealed record CheckedReference(ImageHeader Header, byte[] Data)
{
    public byte[]? Mask { get; init; }
}
