using SkiaSharp;

namespace BananaLab.Worker.Inference.Imaging;

/// <summary>
/// A cheap progress preview: latent channels to RGB by a fixed linear map (the widely used SD 1.x
/// latent-to-RGB factors), normalised per image and enlarged by nearest neighbour. No VAE call.
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
