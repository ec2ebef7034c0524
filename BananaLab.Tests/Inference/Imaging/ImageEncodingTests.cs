using BananaLab.Core.Tasks;
using BananaLab.Worker.Inference.Imaging;
using SkiaSharp;

namespace BananaLab.Tests.Inference.Imaging;

/// <summary>
/// PNG files come from ONNX Runtime Extensions' EncodeImage (libpng) when the bitmap is opaque 8-bit RGB(A), and from
/// SkiaSharp otherwise; both must be lossless, so a decoded file has exactly the pixels that were encoded.
/// </summary>
public sealed class ImageEncodingTests
{
    [Theory]
    [InlineData(SKColorType.Rgba8888)]
    [InlineData(SKColorType.Bgra8888)]
    public void An_opaque_image_is_encoded_by_extensions_and_decodes_to_the_same_pixels(SKColorType colorType)
    {
        using var bitmap = Picture(301, 157, colorType, SKAlphaType.Opaque);
        Assert.True(ExtensionsPngEncoder.Available, "libortextensions did not load, so every PNG would come from SkiaSharp.");

        var png = Encode(bitmap, OutputFormat.Png);

        using (var direct = new MemoryStream())
        {
            Assert.True(ExtensionsPngEncoder.TryEncode(bitmap, direct));
            Assert.Equal(direct.ToArray(), png);
        }
        AssertSamePixels(bitmap, png);
    }

    [Fact]
    public void An_image_with_transparency_keeps_its_alpha_through_skia()
    {
        using var bitmap = Picture(64, 48, SKColorType.Rgba8888, SKAlphaType.Unpremul, alpha: 90);
        Assert.False(ExtensionsPngEncoder.Accepts(bitmap));

        var png = Encode(bitmap, OutputFormat.Png);

        using var decoded = SKBitmap.Decode(png);
        Assert.Equal(90, decoded.GetPixel(10, 10).Alpha);
    }

    [Fact]
    public void Jpeg_and_webp_stay_with_skia_at_their_qualities()
    {
        using var bitmap = Picture(128, 96, SKColorType.Rgba8888, SKAlphaType.Opaque);

        using var jpeg = SKCodec.Create(new MemoryStream(Encode(bitmap, OutputFormat.Jpeg)));
        using var webp = SKCodec.Create(new MemoryStream(Encode(bitmap, OutputFormat.Webp)));

        Assert.Equal(SKEncodedImageFormat.Jpeg, jpeg.EncodedFormat);
        Assert.Equal(SKEncodedImageFormat.Webp, webp.EncodedFormat);
    }

    private static byte[] Encode(SKBitmap bitmap, OutputFormat format)
    {
        using var stream = new MemoryStream();
        ImageEncoding.Encode(bitmap, format, stream);
        return stream.ToArray();
    }

    private static void AssertSamePixels(SKBitmap expected, byte[] png)
    {
        using var decoded = SKBitmap.Decode(png);
        Assert.Equal((expected.Width, expected.Height), (decoded.Width, decoded.Height));
        for (var y = 0; y < expected.Height; y++)
            for (var x = 0; x < expected.Width; x++)
                if (expected.GetPixel(x, y) != decoded.GetPixel(x, y))
                    Assert.Fail($"Pixel ({x}, {y}) was {expected.GetPixel(x, y)}, decoded {decoded.GetPixel(x, y)}.");
    }

    /// <summary>Every pixel different in each channel, so a swapped or shifted channel shows.</summary>
    private static SKBitmap Picture(int width, int height, SKColorType colorType, SKAlphaType alphaType, byte alpha = 255)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, colorType, alphaType));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 7 + y), (byte)(y * 5 + 3 * x), (byte)(x * y + 11), alpha));
        return bitmap;
    }
}
