using BananaLab.Tests.Infrastructure;
using SkiaSharp;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.StableDiffusion;

/// <summary>
/// Inpainting with banana-nano, which was never trained for it: latents outside the mask are held to the reference's at
/// every step, and the finishing step takes the kept pixels from the reference itself. Pixels outside the mask come back
/// unchanged; pixels inside are repainted.
/// </summary>
public sealed class InpaintingTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    public async Task Pixels_outside_the_mask_are_kept_and_pixels_inside_are_repainted()
    {
        const int size = 256;
        var reference = Save("reference.png", Picture(size, (x, y) => new SKColor((byte)x, (byte)(255 - y), (byte)((x + y) / 2))));
        // OpenAI's semantics: the transparent part (the left half) is repainted, the opaque part kept.
        var mask = Save("mask.png", Picture(size, (x, _) => new SKColor(0, 0, 0, x < size / 2 ? (byte)0 : (byte)255)));
        var request = Request(size, size, steps: 4, reference: reference, strength: 1.0, prompt: "a green field") with { MaskImagePath = mask };
        var output = new MemoryImageOutput();

        await CreateGenerator().GenerateAsync(request, new RecordingProgress(), output, CancellationToken.None);

        using var original = SKBitmap.Decode(reference);
        using var result = SKBitmap.Decode(output.Bytes(0));
        Assert.Equal((size, size), (result.Width, result.Height));
        double keptError = 0, repaintedChange = 0;
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var difference = Difference(original.GetPixel(x, y), result.GetPixel(x, y));
                if (x < size / 2) repaintedChange += difference;
                else keptError = Math.Max(keptError, difference);
            }
        Assert.True(keptError <= 1, $"A kept pixel changed by {keptError} of 255.");
        var meanChange = repaintedChange / (size * size / 2);
        Assert.True(meanChange > 20, $"The masked half changed by only {meanChange:F1} of 255 on average.");
    }

    private static double Difference(SKColor a, SKColor b) =>
        Math.Max(Math.Abs(a.Red - b.Red), Math.Max(Math.Abs(a.Green - b.Green), Math.Abs(a.Blue - b.Blue)));

    private static SKBitmap Picture(int size, Func<int, int, SKColor> color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
                bitmap.SetPixel(x, y, color(x, y));
        return bitmap;
    }

    private string Save(string name, SKBitmap bitmap)
    {
        using (bitmap)
        {
            var path = Path.Combine(_temp.Path, name);
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, data.ToArray());
            return path;
        }
    }

    public void Dispose() => _temp.Dispose();
}
