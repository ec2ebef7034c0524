using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Inference;
using BananaLab.Worker.Inference.StableDiffusion;
using SkiaSharp;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.StableDiffusion;

/// <summary>banana-nano end to end through the real ONNX Runtime on the CPU.</summary>
public sealed class StableDiffusionPipelineTests(NanoPipelineFixture fixture) : IClassFixture<NanoPipelineFixture>
{
    private async Task<(MemoryImageOutput Output, GenerationResult Result, RecordingProgress Progress)> Generate(
        GenerationRequest request, LocalGeneration? generator = null, RecordingProgress? progress = null,
        CancellationToken cancellationToken = default)
    {
        var output = new MemoryImageOutput();
        progress ??= new RecordingProgress();
        var result = await (generator ?? fixture.Generator).GenerateAsync(request, progress, output, cancellationToken);
        return (output, result, progress);
    }

    [Fact]
    public async Task Same_seed_gives_identical_bytes()
    {
        var first = await Generate(Request(seed: 42, steps: 3));
        var second = await Generate(Request(seed: 42, steps: 3));
        Assert.Equal(first.Output.Bytes(0), second.Output.Bytes(0));
    }

    [Fact]
    public async Task Reports_each_step_then_upscaling_and_encoding_of_each_image()
    {
        var (_, _, progress) = await Generate(Request(width: 256, height: 256, count: 2, steps: 3));

        var reports = progress.Reports;
        Assert.Equal([1, 2, 3], reports.Where(r => r.Phase == GenerationPhase.Denoising).Select(r => r.Step));
        // Upscaling reports again as its tiles are done: one entry per phase and image here.
        var finishing = reports.SkipWhile(r => r.Phase == GenerationPhase.Denoising).Select(r => (r.Phase, r.Image, r.ImageCount))
            .Aggregate(new List<(GenerationPhase, int, int)>(), (phases, r) => { if (phases.Count == 0 || phases[^1] != r) phases.Add(r); return phases; });
        Assert.Equal([(GenerationPhase.Upscaling, 0, 2), (GenerationPhase.Encoding, 0, 2), (GenerationPhase.Upscaling, 1, 2), (GenerationPhase.Encoding, 1, 2)],
            finishing);
    }

    [Fact]
    public async Task Upscaling_reports_its_tiles_so_a_long_enlargement_moves_from_0_to_1()
    {
        // 128 → 512 → 2048: one model tile, then the tiles of the 512-pixel image (five in all).
        var (_, _, progress) = await Generate(Request(width: 2048, height: 2048, steps: 2));

        var fractions = progress.Reports.Where(r => r.Phase == GenerationPhase.Upscaling).Select(r => r.PhaseFraction).ToList();
        Assert.Equal([0, 0.2, 0.4, 0.6, 0.8, 1.0], fractions.Select(f => Math.Round(f, 6)));
        var percents = progress.Reports.Where(r => r.Phase == GenerationPhase.Upscaling)
            .Select(r => new RunEstimate(DenoiseSeconds: 1, UpscaleSeconds: 8, EncodeSeconds: 1).PercentAt(r)).ToList();
        Assert.True(percents.Zip(percents.Skip(1)).All(p => p.Second > p.First), $"percent should rise with every tile: {string.Join(", ", percents)}");
        Assert.Equal((10, 90), (percents[0], percents[^1]));
    }

    [Fact]
    public async Task Different_seeds_give_different_images()
    {
        var first = await Generate(Request(seed: 1, steps: 3));
        var second = await Generate(Request(seed: 2, steps: 3));
        Assert.NotEqual(first.Output.Bytes(0), second.Output.Bytes(0));
    }

    [Fact]
    public async Task Requested_number_of_images_is_written_each_from_seed_plus_index()
    {
        var batch = await Generate(Request(count: 3, seed: 10, steps: 2));
        Assert.Equal([0, 1, 2], batch.Result.Images.Select(i => i.Index));
        Assert.Equal(3, batch.Output.Count);
        Assert.NotEqual(batch.Output.Bytes(0), batch.Output.Bytes(1));

        // Image 2 of seed 10 is image 0 of seed 12; batching may change float rounding, not the picture.
        var single = await Generate(Request(count: 1, seed: 12, steps: 2));
        Assert.True(MeanAbsoluteDifference(batch.Output.Bytes(2), single.Output.Bytes(0)) < 1.0);
    }

    public static TheoryData<SizeTier, int, int> TiersAndRatios() => new()
    {
        { SizeTier.OneK, 1, 1 }, { SizeTier.OneK, 4, 3 }, { SizeTier.OneK, 3, 4 }, { SizeTier.OneK, 16, 9 }, { SizeTier.OneK, 9, 16 },
        { SizeTier.TwoK, 16, 9 }, { SizeTier.FourK, 16, 9 },
    };

    [Theory]
    [MemberData(nameof(TiersAndRatios))]
    public async Task Each_tier_and_aspect_ratio_has_its_exact_pixel_size(SizeTier tier, int ratioWidth, int ratioHeight)
    {
        var (width, height) = SizeTiers.PixelSize(tier, new AspectRatio(ratioWidth, ratioHeight));
        var run = await Generate(Request(width, height, steps: 2));
        Assert.Equal(new GeneratedImage(0, width, height), Assert.Single(run.Result.Images));
        Assert.Equal((width, height), DecodedSize(run.Output.Bytes(0)));
    }

    [Fact]
    public async Task Any_size_between_64_and_4096_is_produced_exactly()
    {
        var run = await Generate(Request(333, 1500, steps: 1));
        Assert.Equal((333, 1500), DecodedSize(run.Output.Bytes(0)));
    }

    [Fact]
    public async Task Without_the_upscaler_model_images_are_resampled_to_the_exact_size()
    {
        var generator = CreateGenerator(upscalerPath: Path.Combine(Path.GetTempPath(), "no-such-upscaler", "model.onnx"));
        var run = await Generate(Request(2048, 1152, steps: 1), generator);
        Assert.Equal((2048, 1152), DecodedSize(run.Output.Bytes(0)));
    }

    [Theory]
    [InlineData(OutputFormat.Png, SKEncodedImageFormat.Png)]
    [InlineData(OutputFormat.Jpeg, SKEncodedImageFormat.Jpeg)]
    [InlineData(OutputFormat.Webp, SKEncodedImageFormat.Webp)]
    public async Task Output_is_encoded_in_the_requested_format(OutputFormat format, SKEncodedImageFormat expected)
    {
        var run = await Generate(Request(512, 512, steps: 1, format: format));
        using var codec = SKCodec.Create(new SKMemoryStream(run.Output.Bytes(0)));
        Assert.Equal(expected, codec.EncodedFormat);
    }

    [Fact]
    public async Task Progress_is_reported_once_per_step_with_a_preview()
    {
        var run = await Generate(Request(steps: 4));
        var steps = run.Progress.Reports.Where(r => r.Phase == GenerationPhase.Denoising).ToList();
        Assert.Equal([1, 2, 3, 4], steps.Select(r => r.Step));
        Assert.All(steps, r => Assert.Equal(4, r.TotalSteps));
        Assert.All(steps, r => Assert.NotNull(SKBitmap.Decode(r.PreviewPng)));
    }

    [Fact]
    public async Task Cancellation_stops_within_one_step()
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new RecordingProgress { OnReport = _ => cancellation.Cancel() };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Generate(Request(steps: 20), progress: progress, cancellationToken: cancellation.Token));
        Assert.Single(progress.Reports);
    }

    [Fact]
    public async Task Guidance_of_one_skips_the_unconditional_branch_and_still_generates()
    {
        var run = await Generate(Request(256, 256, steps: 2, guidance: 1.0, negative: "blurry"));
        Assert.Equal((256, 256), DecodedSize(run.Output.Bytes(0)));
    }

    [Fact]
    public async Task Prompt_longer_than_one_chunk_generates()
    {
        var prompt = string.Join(" ", Enumerable.Repeat("red apple on a blue background", 20));
        var run = await Generate(Request(256, 256, steps: 1, prompt: prompt));
        Assert.Single(run.Result.Images);
    }

    [Fact]
    public async Task Image_to_image_at_strength_zero_returns_the_reference()
    {
        using var temp = new TempDirectory();
        var reference = Path.Combine(temp.Path, "reference.png");
        File.WriteAllBytes(reference, SmoothReference(1024, 1024));

        var run = await Generate(Request(1024, 1024, steps: 4, reference: reference, strength: 0));

        Assert.DoesNotContain(run.Progress.Reports, r => r.Phase == GenerationPhase.Denoising);
        var difference = MeanAbsoluteDifference(File.ReadAllBytes(reference), run.Output.Bytes(0));
        Assert.True(difference < ReferenceTolerance, $"mean absolute difference {difference:F2} of 255");
    }

    [Fact]
    public async Task Image_to_image_runs_only_the_steps_its_strength_leaves()
    {
        using var temp = new TempDirectory();
        var reference = Path.Combine(temp.Path, "reference.png");
        File.WriteAllBytes(reference, SmoothReference(300, 200));
        var run = await Generate(Request(1024, 768, steps: 4, reference: reference, strength: 0.5));
        Assert.Equal([1, 2], run.Progress.Reports.Where(r => r.Phase == GenerationPhase.Denoising).Select(r => r.Step));
        Assert.Equal((1024, 768), DecodedSize(run.Output.Bytes(0)));
    }

    [Fact]
    public async Task Unreadable_reference_image_is_a_clear_error()
    {
        using var temp = new TempDirectory();
        var reference = Path.Combine(temp.Path, "reference.png");
        File.WriteAllText(reference, "this is not an image");
        var error = await Assert.ThrowsAsync<GenerationException>(() => Generate(Request(reference: reference, strength: 0.5)));
        Assert.Equal("reference_image_unreadable", error.Code);
        Assert.False(error.Transient);
    }

    [Fact]
    public async Task Missing_model_file_is_an_error_naming_the_file()
    {
        using var temp = CopyOfNano();
        File.Delete(Path.Combine(temp.Path, "banana-nano", "unet", "model.onnx"));
        var error = await Assert.ThrowsAsync<GenerationException>(() =>
            Generate(Request(steps: 1, model: Nano(Path.Combine(temp.Path, "banana-nano"))), CreateGenerator()));
        Assert.Equal("model_unavailable", error.Code);
        Assert.False(error.Transient);
        Assert.Contains("banana-nano/unet/model.onnx is missing", error.Message);
    }

    [Fact]
    public async Task Corrupt_model_file_is_an_error_naming_the_file()
    {
        using var temp = CopyOfNano();
        var unet = Path.Combine(temp.Path, "banana-nano", "unet", "model.onnx");
        File.WriteAllBytes(unet, File.ReadAllBytes(unet)[..4096]);
        var error = await Assert.ThrowsAsync<GenerationException>(() =>
            Generate(Request(steps: 1, model: Nano(Path.Combine(temp.Path, "banana-nano"))), CreateGenerator()));
        Assert.Equal("model_unavailable", error.Code);
        Assert.Contains("banana-nano/unet/model.onnx is corrupt", error.Message);
    }

    /// <summary>
    /// The VAE round trip through a 16×16 latent loses fine detail; on this smooth picture banana-nano 2's 8× autoencoder
    /// (trained on flat-coloured emoji, 23.5 dB on them) is about 9.5 of 255 off, a broken path (noise, wrong scaling) tens.
    /// </summary>
    private const double ReferenceTolerance = 14.0;

    private static TempDirectory CopyOfNano()
    {
        var temp = new TempDirectory();
        foreach (var file in Directory.EnumerateFiles(NanoFolder, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(temp.Path, "banana-nano", Path.GetRelativePath(NanoFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return temp;
    }

    private static (int Width, int Height) DecodedSize(byte[] encoded)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(encoded));
        return (codec.Info.Width, codec.Info.Height);
    }

    /// <summary>Mean |a − b| over RGB, 0..255, after bringing b to a's size.</summary>
    internal static double MeanAbsoluteDifference(byte[] a, byte[] b)
    {
        using var first = SKBitmap.Decode(a).Copy(SKColorType.Rgba8888);
        using var decoded = SKBitmap.Decode(b).Copy(SKColorType.Rgba8888);
        using var second = decoded.Width == first.Width && decoded.Height == first.Height
            ? decoded.Copy()
            : decoded.Resize(new SKImageInfo(first.Width, first.Height, SKColorType.Rgba8888), new SKSamplingOptions(SKCubicResampler.Mitchell));
        var p = first.GetPixelSpan();
        var q = second.GetPixelSpan();
        double sum = 0;
        for (var i = 0; i < p.Length; i += 4)
            for (var c = 0; c < 3; c++) sum += Math.Abs(p[i + c] - q[i + c]);
        return sum / (p.Length / 4 * 3);
    }

    /// <summary>A soft two-colour gradient with a blurred disc: the kind of picture the VAE reproduces well.</summary>
    private static byte[] SmoothReference(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                double u = (double)x / width, v = (double)y / height;
                var d = Math.Sqrt((u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5));
                var disc = 1 / (1 + Math.Exp((d - 0.28) * 25));
                var i = (y * width + x) * 4;
                pixels[i] = (byte)(255 * (0.2 + 0.7 * disc));
                pixels[i + 1] = (byte)(255 * (0.3 + 0.4 * u * (1 - disc)));
                pixels[i + 2] = (byte)(255 * (0.8 - 0.6 * disc));
                pixels[i + 3] = 255;
            }
        using var stream = new MemoryStream();
        bitmap.Encode(stream, SKEncodedImageFormat.Png, 100);
        return stream.ToArray();
    }
}
