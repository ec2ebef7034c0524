using BananaLab.Core.Tasks;
using SkiaSharp;

namespace BananaLab.Worker.Inference.Imaging;

public static class ImageEncoding
{
    public const int JpegQuality = 92;
    public const int WebpQuality = 90;

    /// <summary>
    /// Encodes straight into the task's file stream: PNG (through <see cref="ExtensionsPngEncoder"/> when it takes the
    /// bitmap, else SkiaSharp), JPEG (92) or WebP (90) with SkiaSharp.
    /// </summary>
    public static void Encode(SKBitmap bitmap, OutputFormat format, Stream destination)
    {
        if (format == OutputFormat.Png && ExtensionsPngEncoder.TryEncode(bitmap, destination)) return;
        var (skiaFormat, quality) = format switch
        {
            OutputFormat.Jpeg => (SKEncodedImageFormat.Jpeg, JpegQuality),
            OutputFormat.Webp => (SKEncodedImageFormat.Webp, WebpQuality),
            _ => (SKEncodedImageFormat.Png, 100),
        };
        if (!bitmap.Encode(destination, skiaFormat, quality))
            throw new InvalidOperationException($"Skia could not encode a {bitmap.Width}x{bitmap.Height} {format} image.");
    }

    public static byte[] EncodePng(SKBitmap bitmap)
    {
        using var stream = new MemoryStream();
        Encode(bitmap, OutputFormat.Png, stream);
        return stream.ToArray();
    }
}
