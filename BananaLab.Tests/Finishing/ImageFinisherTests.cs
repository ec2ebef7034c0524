using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Inference;
using BananaLab.Worker.Finishing;
using BananaLab.Worker.Inference;
using SkiaSharp;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Finishing;

/// <summary>
/// The worker's finishing step with the real x4 upscaler, fed as a remote provider would feed it: encoded files of the
/// provider's own size.
/// </summary>
public sealed class ImageFinisherTests : IDisposable
{
    private readonly LocalGeneration _local = CreateGenerator();

    [Fact]
    public async Task A_provider_file_of_another_size_and_format_is_framed_enlarged_and_encoded_to_the_task()
    {
        var provider = new FileProvider(Encoded(512, 384, SKEncodedImageFormat.Jpeg));
        var output = new MemoryImageOutput();
        var progress = new RecordingProgress();

        var result = await _local.Finisher.GenerateAsync(provider, Request(1024, 1024, format: OutputFormat.Png), progress, output, default);

        Assert.Equal(new GeneratedImage(0, 1024, 1024), Assert.Single(result.Images));
        using var codec = SKCodec.Create(new SKMemoryStream(output.Bytes(0)));
        Assert.Equal((SKEncodedImageFormat.Png, 1024, 1024), (codec.EncodedFormat, codec.Info.Width, codec.Info.Height));
        Assert.Equal([GenerationPhase.Upscaling, GenerationPhase.Encoding], progress.Reports.Select(r => r.Phase).Distinct());
        // The provider's file was read inside the upscaling phase, after its start was reported.
        Assert.Equal(GenerationPhase.Upscaling, provider.PhaseWhenProduced);
    }

    [Fact]
    public async Task A_provider_file_that_already_has_the_task_size_and_format_is_stored_as_it_is()
    {
        var file = Encoded(640, 480, SKEncodedImageFormat.Webp);
        var output = new MemoryImageOutput();

        await _local.Finisher.GenerateAsync(new FileProvider(file), Request(640, 480, format: OutputFormat.Webp), new RecordingProgress(), output, default);

        Assert.Equal(file, output.Bytes(0));
    }

    [Fact]
    public async Task A_provider_answer_that_is_no_image_is_a_transient_no_image()
    {
        var error = await Assert.ThrowsAsync<GenerationException>(() => _local.Finisher.GenerateAsync(
            new FileProvider("not an image at all"u8.ToArray()), Request(256, 256), new RecordingProgress(), new MemoryImageOutput(), default));

        Assert.Equal(TaskErrors.NoImage, error.Code);
        Assert.True(error.Transient);
    }

    public void Dispose() => _local.Dispose();

    private static byte[] Encoded(int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(30, 90, 200));
            using var paint = new SKPaint { Color = new SKColor(240, 200, 40) };
            canvas.DrawCircle(width / 2f, height / 2f, height / 3f, paint);
        }
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>Answers every request with one file, the way a remote image service returns its result.</summary>
    private sealed class FileProvider(byte[] file) : IImageGenerator
    {
        public GenerationPhase? PhaseWhenProduced { get; private set; }

        public string Provider => "file";

        /// <summary>A remote service's shape: tier sizes in a few ratios, no diffusion parameters, no progress, one image a call.</summary>
        public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => new() { AspectRatios = [AspectRatio.Square, new(16, 9)] };

        public Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
            CancellationToken cancellationToken)
        {
            var recording = (RecordingProgress)progress;
            var image = output.Finish(0, () =>
            {
                PhaseWhenProduced = recording.Reports.LastOrDefault()?.Phase;
                return new ProducedImage.Encoded(file);
            }, cancellationToken);
            return Task.FromResult(new GenerationResult([image]));
        }
    }
}
