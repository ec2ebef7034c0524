using SkiaSharp;

namespace BananaLab.Core.Images;

/// <summary>
/// An uploaded image as every entry point takes it (native API, studio, each dialect, OpenAI edits, fastDeploy FILE
/// inputs): fully decoded before anything is charged, and upright. A file with an EXIF orientation other than
/// top-left is stored re-encoded upright (JPEG at quality 95, otherwise PNG), so every consumer, local or remote, sees
/// the picture a viewer shows; any other file is kept byte for byte.
/// </summary>
public sealed record IncomingImage(ImageHeader Header, byte[] Data)
{
    private const int JpegQuality = 95;

    /// <summary>
    /// Takes <paramref name="data"/>, whose <paramref name="header"/> has been read and checked against the limits.
    /// Memory: one row for a JPEG already upright, the whole RGBA image (4 bytes a pixel) otherwise; a turned 16.7-megapixel
    /// JPEG peaks at about 210 MiB over the process (decode, turn, re-encode) and takes about 2 s.
    /// Null with a sentence in <paramref name="error"/> when a pixel cannot be decoded.
    /// </summary>
    public static IncomingImage? Take(byte[] data, ImageHeader header, out string error)
    {
        var origin = ImageDecoding.Verify(data, out error);
        if (origin is null) return null;
        if (origin == SKEncodedOrigin.TopLeft) return new IncomingImage(header, data);

        using var upright = ImageDecoding.DecodeUpright(data, out error);
        if (upright is null) return null;
        var jpeg = header.ContentType == "image/jpeg";
        using var encoded = upright.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, JpegQuality);
        var bytes = encoded.ToArray();
        return new IncomingImage(jpeg
            ? new ImageHeader("image/jpeg", ".jpg", upright.Width, upright.Height)
            : new ImageHeader("image/png", ".png", upright.Width, upright.Height), bytes);
    }
}
