using BananaLab.Core.Generation;
using BananaLab.Core.Images;
using BananaLab.Core.Tasks;
using BananaLab.Worker.Inference.Imaging;
using BananaLab.Worker.Inference.Upscaling;
using SkiaSharp;

namespace BananaLab.Worker.Finishing;

/// <summary>
/// The worker's finishing step, shared by every provider: an image as the provider made it (at a model's native size, or
/// whatever size a remote service returns) is cover-cropped to the task's aspect ratio, enlarged by the super-resolution
/// model and resampled to the exact size, and encoded in the task's format straight into its file.
/// </summary>
public sealed class ImageFinisher(SuperResolutionUpscaler upscaler)
{
    /// <summary>Runs <paramref name="generator"/> for <paramref name="request"/>, finishing each image it delivers into <paramref name="files"/>.</summary>
    public Task<GenerationResult> GenerateAsync(IImageGenerator generator, GenerationRequest request, IGenerationProgress progress,
        IImageOutput files, CancellationToken cancellationToken) =>
        generator.GenerateAsync(request, progress, new Output(this, request, progress, files), cancellationToken);

    /// <summary>
    /// Runs <paramref name="generator"/> for several tasks' requests in shared calls (<see cref="IBatchingImageGenerator.GenerateBatch"/>),
    /// finishing each member's images into its own files; one task per member, in order.
    /// </summary>
    public IReadOnlyList<Task<GenerationResult>> GenerateBatch(IBatchingImageGenerator generator,
        IReadOnlyList<(GenerationRequest Request, IGenerationProgress Progress, IImageOutput Files, CancellationToken CancellationToken)> members) =>
        generator.GenerateBatch(members.Select(m =>
            new BatchMember(m.Request, m.Progress, new Output(this, m.Request, m.Progress, m.Files), m.CancellationToken)).ToList());

    private GeneratedImage Finish(GenerationRequest request, IGenerationProgress progress, IImageOutput files, int index,
        Func<ProducedImage> produce, CancellationToken cancellationToken)
    {
        if (index < 0 || index >= request.ImageCount)
            throw new ArgumentOutOfRangeException(nameof(index), $"image {index} of a request for {request.ImageCount}");
        progress.Report(GenerationProgress.Upscaling(index, request.ImageCount));
        var produced = produce();
        if (produced is ProducedImage.Encoded { Data: var data } && IsFinal(data, request))
        {
            progress.Report(GenerationProgress.Encoding(index, request.ImageCount));
            using (var stream = files.Create(index)) stream.Write(data);
            return new GeneratedImage(index, request.Width, request.Height);
        }

        using var native = Bitmap(produced);
        using var framed = ImageFraming.Crop(native, ImageFraming.CoverRect(native.Width, native.Height, request.Width, request.Height));
        using var upscaled = upscaler.UpscaleTo(framed, request.Width, request.Height, cancellationToken,
            fraction => progress.Report(GenerationProgress.Upscaling(index, request.ImageCount, fraction)));
        // Inpainting: every pixel the mask keeps comes from the reference itself, at the output's size.
        using var composited = request is { MaskImagePath: { } mask, ReferenceImagePath: { } reference }
            ? InpaintMask.Composite(upscaled, reference, mask, request.ReferenceFit) : null;
        var final = composited ?? upscaled;
        progress.Report(GenerationProgress.Encoding(index, request.ImageCount));
        using (var stream = files.Create(index)) ImageEncoding.Encode(final, request.OutputFormat, stream);
        return new GeneratedImage(index, final.Width, final.Height);
    }

    /// <summary>A provider's file that already has the task's exact size and format is stored as it is, never re-encoded.</summary>
    private static bool IsFinal(byte[] data, GenerationRequest request) =>
        ImageHeader.TryRead(data, out var header, out _)
        && header!.Width == request.Width && header.Height == request.Height && header.ContentType == request.OutputFormat.ContentType();

    private static SKBitmap Bitmap(ProducedImage image)
    {
        switch (image)
        {
            case ProducedImage.Pixels pixels:
                return ImageFraming.FromRgba(pixels.Width, pixels.Height, pixels.Rgba);
            case ProducedImage.Encoded encoded:
                if (!ImageHeader.TryRead(encoded.Data, out _, out var error))
                    throw new GenerationException(TaskErrors.NoImage, $"The provider returned no readable image: {error}", transient: true);
                using (var decoded = SKBitmap.Decode(encoded.Data))
                {
                    if (decoded is null || decoded.Width == 0 || decoded.Height == 0)
                        throw new GenerationException(TaskErrors.NoImage, "The provider returned an image that could not be decoded.", transient: true);
                    return ImageFraming.ToOpaque(decoded);
                }
            default:
                throw new ArgumentException($"{image.GetType().Name} is not an image the finishing step knows.", nameof(image));
        }
    }

    /// <summary>One request's output: the finishing step bound to its size, format, progress and files.</summary>
    private sealed class Output(ImageFinisher finisher, GenerationRequest request, IGenerationProgress progress, IImageOutput files)
        : IGenerationOutput
    {
        public Stream Create(int index) => files.Create(index);

        public GeneratedImage Finish(int index, Func<ProducedImage> produce, CancellationToken cancellationToken) =>
            finisher.Finish(request, progress, files, index, produce, cancellationToken);
    }
}
