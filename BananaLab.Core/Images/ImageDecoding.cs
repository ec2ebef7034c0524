using System.Runtime.InteropServices;
using SkiaSharp;

namespace BananaLab.Core.Images;

/// <summary>
/// Decodes PNG, JPEG and WebP files the way image viewers show them, with Skia's codecs
/// (https://api.skia.org/classSkCodec.html): every pixel is decoded, so a damaged stream is an error instead of a
/// black or grey remainder, and the EXIF orientation (tag 0x0112, CIPA DC-008 "Exif 2.32" §4.6.4) is applied.
/// Bytes after a JPEG's end marker (a newline, padding, a Samsung <c>SEFH</c> trailer, a motion photo's video) are
/// ignored, as ImageMagick and PIL do.
/// </summary>
public static class ImageDecoding
{
    /// <summary>
    /// Decodes every pixel of <paramref name="data"/> without keeping them: row by row where the codec allows it (JPEG:
    /// one row of memory), whole otherwise (PNG and WebP, whose Skia codecs have no scanline decoding: 4 bytes a pixel,
    /// bounded by <c>Storage:MaxReferenceImagePixels</c>). The file is read in place, not copied. Returns the EXIF orientation
    /// (<see cref="SKEncodedOrigin.TopLeft"/> when it has none), or null with a sentence in <paramref name="error"/>.
    /// </summary>
    public static SKEncodedOrigin? Verify(byte[] data, out string error) => WithCodec(data, VerifyRows, out error);

    /// <summary>
    /// Every pixel of <paramref name="data"/>, turned upright by its EXIF orientation: an RGBA bitmap (opaque, or
    /// premultiplied when the file has alpha) whose size is the displayed one (width and height swap for orientations
    /// 5–8). Null with a sentence in <paramref name="error"/> when the file is not a whole PNG, JPEG or WebP image.
    /// </summary>
    public static SKBitmap? DecodeUpright(byte[] data, out string error) => WithCodec(data, codec =>
    {
        var decoded = DecodeWhole(codec, DecodeInfo(codec), out var damaged);
        if (decoded is null || codec.EncodedOrigin == SKEncodedOrigin.TopLeft) return (decoded, damaged);
        using (decoded) return (Orient(decoded, codec.EncodedOrigin), "");
    }, out error);

    private static (SKEncodedOrigin?, string) VerifyRows(SKCodec codec)
    {
        var info = DecodeInfo(codec);
        string error;
        if (codec.StartScanlineDecode(info) == SKCodecResult.Success)
        {
            var row = new byte[info.RowBytes];
            var handle = GCHandle.Alloc(row, GCHandleType.Pinned);
            try
            {
                for (var y = 0; y < info.Height; y++)
                    if (codec.GetScanlines(handle.AddrOfPinnedObject(), 1, info.RowBytes) != 1)
                        return (Damaged(codec, $"row {y + 1} of {info.Height} could not be decoded", out error), error);
            }
            finally
            {
                handle.Free();
            }
            return (codec.EncodedOrigin, "");
        }
        using var whole = DecodeWhole(codec, info, out error);
        return (whole is null ? null : codec.EncodedOrigin, error);
    }

    /// <summary>A copy of a bitmap as stored with <paramref name="origin"/>, drawn the way it is meant to be seen.</summary>
    public static SKBitmap Orient(SKBitmap stored, SKEncodedOrigin origin)
    {
        var (w, h) = ((float)stored.Width, (float)stored.Height);
        // The stored pixel (x, y) lands at (ScaleX·x + SkewX·y + TransX, SkewY·x + ScaleY·y + TransY): Skia's SkEncodedOriginToMatrix.
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        var swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var target = new SKBitmap(swaps ? stored.Info.WithSize(stored.Height, stored.Width) : stored.Info);
        using var canvas = new SKCanvas(target);
        canvas.Clear(SKColors.Transparent);
        canvas.SetMatrix(matrix);
        using var image = SKImage.FromBitmap(stored);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest), null);
        return target;
    }

    /// <summary>Runs <paramref name="use"/> on a codec reading <paramref name="data"/> in place (pinned, not copied: an upload may be 20 MiB).</summary>
    private static T? WithCodec<T>(byte[] data, Func<SKCodec, (T? Value, string Error)> use, out string error)
    {
        var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        try
        {
            using var bytes = SKData.Create(pin.AddrOfPinnedObject(), data.Length);
            using var codec = SKCodec.Create(bytes);
            if (codec is null)
            {
                error = "the file is not a PNG, JPEG or WebP image Skia can open.";
                return default;
            }
            (var value, error) = use(codec);
            return value;
        }
        finally
        {
            pin.Free();
        }
    }

    private static SKImageInfo DecodeInfo(SKCodec codec) => new(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888,
        codec.Info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);

    private static SKBitmap? DecodeWhole(SKCodec codec, SKImageInfo info, out string error)
    {
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.Success)
        {
            error = "";
            return bitmap;
        }
        bitmap.Dispose();
        Damaged(codec, result == SKCodecResult.IncompleteInput ? "it ends before its last row" : $"the decoder reports {result}", out error);
        return null;
    }

    private static SKEncodedOrigin? Damaged(SKCodec codec, string detail, out string error)
    {
        error = $"the {codec.EncodedFormat.ToString().ToUpperInvariant()} image data is damaged: {detail}.";
        return null;
    }
}
