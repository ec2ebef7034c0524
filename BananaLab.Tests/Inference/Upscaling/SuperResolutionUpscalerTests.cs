using BananaLab.Worker.Inference;
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;
using static BananaLab.Tests.Inference.InferenceTestModels;

namespace BananaLab.Tests.Inference.Upscaling;

/// <summary>The x4 super-resolution model in tiles, as the finishing step runs it, against the model run on whole images.</summary>
public sealed class SuperResolutionUpscalerTests : IDisposable
{
    private readonly LocalGeneration _local = CreateGenerator();

    [Fact]
    public void Beyond_16x_the_model_enlargement_is_resampled_bilinearly_not_enlarged_by_a_third_pass()
    {
        using var source = Picture(32, 18);

        using var fourK = _local.Upscaler.UpscaleTo(source, 2048, 1152, default);

        // 32 → 128 → 512 by the model, then one bilinear 4×: what a third model pass would add is not visible at 4K.
        using var sixteenTimes = _local.Upscaler.UpscaleTo(source, 512, 288, default);
        using var expected = new SKBitmap(new SKImageInfo(2048, 1152, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Assert.True(sixteenTimes.ScalePixels(expected, new SKSamplingOptions(SKFilterMode.Linear)));
        Assert.Equal(expected.GetPixelSpan().ToArray(), fourK.GetPixelSpan().ToArray());
    }

    [Fact]
    public void An_image_of_several_tiles_is_enlarged_as_the_model_enlarges_it_whole()
    {
        // 600×90 is three tiles wide: any seam or too small a margin shows up against the whole image's enlargement.
        using var source = Picture(600, 90);

        using var tiled = _local.Upscaler.UpscaleTo(source, 2400, 360, default);

        var whole = WholeImage(source);
        var pixels = tiled.GetPixelSpan();
        var worst = 0;
        for (var i = 0; i < pixels.Length; i++)
            if (i % 4 != 3) worst = Math.Max(worst, Math.Abs(pixels[i] - whole[i]));
        Assert.True(worst <= 1, $"tiled and whole enlargements differ by up to {worst} of 255");
    }

    public void Dispose() => _local.Dispose();

    /// <summary>The model run once over the whole image, its edges replicated by 8 pixels, as opaque RGBA bytes.</summary>
    private static byte[] WholeImage(SKBitmap source)
    {
        const int pad = 8, scale = 4;
        int w = source.Width + 2 * pad, h = source.Height + 2 * pad, plane = w * h;
        var input = new float[3 * plane];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var colour = source.GetPixel(Math.Clamp(x - pad, 0, source.Width - 1), Math.Clamp(y - pad, 0, source.Height - 1));
                input[y * w + x] = colour.Red / 255f;
                input[plane + y * w + x] = colour.Green / 255f;
                input[2 * plane + y * w + x] = colour.Blue / 255f;
            }
        using var session = new InferenceSession(UpscalerPath);
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, h, w]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["input"], [value], ["output"]);
        var output = results[0].GetTensorDataAsSpan<float>();
        int outW = w * scale, outPlane = outW * h * scale, width = source.Width * scale, height = source.Height * scale;
        var rgba = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var o = (y + pad * scale) * outW + x + pad * scale;
                var p = (y * width + x) * 4;
                rgba[p] = (byte)Math.Clamp((int)MathF.Round(output[o] * 255f), 0, 255);
                rgba[p + 1] = (byte)Math.Clamp((int)MathF.Round(output[outPlane + o] * 255f), 0, 255);
                rgba[p + 2] = (byte)Math.Clamp((int)MathF.Round(output[2 * outPlane + o] * 255f), 0, 255);
                rgba[p + 3] = 255;
            }
        return rgba;
    }

    /// <summary>Gradients, hard edges and grain: detail the model enlarges differently at every position.</summary>
    private static SKBitmap Picture(int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var random = new Random(17);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var edge = (x / 7 + y / 5) % 2 == 0 ? 60 : 0;
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)Math.Min(255, y * 255 / height + edge),
                    (byte)random.Next(90, 160)));
            }
        return bitmap;
    }
}
