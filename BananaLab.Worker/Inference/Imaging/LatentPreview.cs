using SkiaSharp;

namespace BananaLab.Worker.Inference.Imaging;

/// <summary>
/// A cheap progress preview, PNG bytes, without a VAE call. With the model's own
/// <see cref="LatentRgbMap"/> each latent pixel becomes an absolute RGB colour and the image is
/// resampled to the model's native pixel size, so the last preview looks like the decoded result.
/// Without one, the old mosaic: the SD 1.x latent-to-RGB factors, stretched per image to the full
/// range, at latent size (its colours bear no fixed relation to the result's).
/// </summary>
public static class LatentPreview
{
    private static readonly float[,] Factors =
    {
        { 0.298f, 0.207f, 0.208f },
        { 0.187f, 0.286f, 0.173f },
        { -0.158f, 0.189f, 0.264f },
        { -0.184f, -0.271f, -0.473f },
    };

    /// <summary>
    /// The preview of one image's latents [C, H, W]: <paramref name="map"/> applied and enlarged by
    /// <paramref name="downsampleFactor"/> (the VAE's) when there is a map, else the mosaic at H × W.
    /// </summary>
    public static byte[] Render(ReadOnlySpan<float> latent, int channels, int height, int width, LatentRgbMap? map, int downsampleFactor) =>
        map is not null && map.Channels == channels
            ? RenderMapped(latent, height, width, map, width * downsampleFactor, height * downsampleFactor)
            : Render(latent, channels, height, width, 1);

    /// <summary>
    /// <paramref name="map"/> per latent pixel into an H × W bitmap, then one cubic resample to
    /// <paramref name="outputWidth"/> × <paramref name="outputHeight"/> (smooth, as the VAE's output is).
    /// </summary>
    public static byte[] RenderMapped(ReadOnlySpan<float> latent, int height, int width, LatentRgbMap map, int outputWidth, int outputHeight)
    {
        var plane = height * width;
        var channels = map.Channels;
        using var small = new SKBitmap(ImageFraming.RgbaInfo(width, height));
        var pixels = small.GetPixelSpan();
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                var row = map.Matrix[c];
                var sum = map.Bias[c];
                for (var k = 0; k < channels; k++) sum += row[k] * latent[k * plane + i];
                pixels[i * 4 + c] = ImageFraming.ToByte(sum);
            }
            pixels[i * 4 + 3] = 255;
        }
        if (outputWidth == width && outputHeight == height) return ImageEncoding.EncodePng(small);
        using var large = ImageFraming.Resize(small, outputWidth, outputHeight);
        return ImageEncoding.EncodePng(large);
    }

    /// <summary>The mosaic: fixed SD 1.x factors, normalised per image, enlarged by nearest neighbour.</summary>
    public static byte[] Render(ReadOnlySpan<float> latent, int channels, int height, int width, int enlarge)
    {
        var plane = height * width;
        var values = new float[plane * 3];
        float min = float.MaxValue, max = float.MinValue;
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
            {
                float sum = 0;
                for (var k = 0; k < channels; k++)
                    sum += latent[k * plane + i] * (channels == 4 ? Factors[k, c] : 1f / channels);
                values[i * 3 + c] = sum;
                min = Math.Min(min, sum);
                max = Math.Max(max, sum);
            }
        var range = Math.Max(max - min, 1e-6f);

        using var bitmap = new SKBitmap(ImageFraming.RgbaInfo(width * enlarge, height * enlarge));
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < height * enlarge; y++)
            for (var x = 0; x < width * enlarge; x++)
            {
                var source = ((y / enlarge) * width + x / enlarge) * 3;
                var target = (y * width * enlarge + x) * 4;
                for (var c = 0; c < 3; c++) pixels[target + c] = ImageFraming.ToByte((values[source + c] - min) / range);
                pixels[target + 3] = 255;
            }
        return ImageEncoding.EncodePng(bitmap);
    }
}
