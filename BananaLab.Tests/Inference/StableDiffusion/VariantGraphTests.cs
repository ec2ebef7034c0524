using BananaLab.Core.Generation;
using BananaLab.Tests.Infrastructure;
using SkiaSharp;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.StableDiffusion;

/// <summary>
/// The pipeline reads names, element types and fixed axes from the graphs: these stand-in graphs
/// (Data/make_variant_model.py) use fp16 tensors, int32 ids, a float32 timestep, a fixed batch of 1,
/// an 8-channel latent_parameters encoder and no scaling_factor, unlike banana-nano.
/// </summary>
public sealed class VariantGraphTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _folder;

    public VariantGraphTests()
    {
        _folder = Path.Combine(_temp.Path, "variant");
        BpeModelFolder(_folder);
    }

    [Fact]
    public async Task Fp16_graphs_with_int32_ids_a_float_timestep_and_a_fixed_batch_generate_deterministically()
    {
        var generator = CreateGenerator();
        var request = Request(320, 240, count: 2, steps: 2, guidance: 4, model: Nano(_folder));
        var first = new MemoryImageOutput();
        var second = new MemoryImageOutput();
        var progress = new RecordingProgress();
        await generator.GenerateAsync(request, progress, first, CancellationToken.None);
        await generator.GenerateAsync(request, new RecordingProgress(), second, CancellationToken.None);

        Assert.Equal([1, 2], progress.Reports.Where(r => r.Phase == GenerationPhase.Denoising).Select(r => r.Step));
        for (var i = 0; i < 2; i++)
        {
            using var image = SKBitmap.Decode(first.Bytes(i));
            Assert.Equal((320, 240), (image.Width, image.Height));
            Assert.Equal(first.Bytes(i), second.Bytes(i));
        }
    }

    [Fact]
    public async Task Encoder_returning_mean_and_logvar_is_read_as_its_mean()
    {
        var reference = Path.Combine(_temp.Path, "reference.png");
        using (var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Opaque)))
        {
            bitmap.Erase(new SKColor(200, 120, 40));
            using var stream = File.Create(reference);
            bitmap.Encode(stream, SKEncodedImageFormat.Png, 100);
        }
        var output = new MemoryImageOutput();
        await CreateGenerator().GenerateAsync(Request(64, 64, steps: 2, reference: reference, strength: 0, model: Nano(_folder)),
            new RecordingProgress(), output, CancellationToken.None);

        // Stand-in decoder: tanh of the encoded mean, which is the pixel value in [-1, 1].
        using var image = SKBitmap.Decode(output.Bytes(0));
        var pixel = image.GetPixel(32, 32);
        static byte Expected(byte v) => (byte)Math.Round((Math.Tanh(v / 127.5 - 1) + 1) / 2 * 255);
        Assert.InRange(pixel.Red, Expected(200) - 2, Expected(200) + 2);
        Assert.InRange(pixel.Green, Expected(120) - 2, Expected(120) + 2);
        Assert.InRange(pixel.Blue, Expected(40) - 2, Expected(40) + 2);
    }

    public void Dispose() => _temp.Dispose();
}
