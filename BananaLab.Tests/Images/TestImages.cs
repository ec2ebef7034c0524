using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace BananaLab.Tests.Images;

/// <summary>
/// Files the way phones, cameras and broken uploaders write them, made here byte by byte around Skia-encoded images:
/// EXIF orientation (an APP1 segment, CIPA DC-008 §4.5.4), bytes after a JPEG's end marker, and a PNG whose IDAT is
/// garbage under correct CRCs.
/// </summary>
internal static class TestImages
{
    public static readonly SKColor Top = new(220, 30, 30);
    public static readonly SKColor Bottom = new(30, 30, 220);

    /// <summary>An opaque picture whose top half is <see cref="Top"/> and bottom half <see cref="Bottom"/>.</summary>
    public static SKBitmap Upright(int width, int height) => Halves(width, height, vertical: true, topFirst: true);

    /// <summary>
    /// A JPEG of a <paramref name="width"/>×<paramref name="height"/> upright picture stored turned 90° anticlockwise
    /// (height×width, <see cref="Top"/> on the left) with EXIF Orientation 6, which says "turn it clockwise to view".
    /// </summary>
    public static byte[] JpegWithOrientation6(int width, int height) => JpegWithOrientation(width, height, 6);

    /// <summary>
    /// A JPEG of a <paramref name="width"/>×<paramref name="height"/> upright picture stored the way a camera held
    /// askew stores it, with the EXIF <paramref name="orientation"/> (3, 6 or 8) that tells a viewer how to turn it back.
    /// </summary>
    public static byte[] JpegWithOrientation(int width, int height, ushort orientation)
    {
        using var stored = orientation switch
        {
            3 => Halves(width, height, vertical: true, topFirst: false),
            6 => Halves(height, width, vertical: false, topFirst: true),
            8 => Halves(height, width, vertical: false, topFirst: false),
            _ => throw new ArgumentOutOfRangeException(nameof(orientation), orientation, null),
        };
        return WithExifOrientation(Encode(stored, SKEncodedImageFormat.Jpeg), orientation);
    }

    public static byte[] Jpeg(int width, int height)
    {
        using var bitmap = Upright(width, height);
        return Encode(bitmap, SKEncodedImageFormat.Jpeg);
    }

    public static byte[] Png(int width, int height)
    {
        using var bitmap = Upright(width, height);
        return Encode(bitmap, SKEncodedImageFormat.Png);
    }

    /// <summary>A PNG with an alpha channel: the left half transparent, the right half opaque (a mask's shape).</summary>
    public static byte[] TranslucentPng(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, x < width / 2 ? SKColors.Transparent : SKColors.White);
        return Encode(bitmap, SKEncodedImageFormat.Png);
    }

    /// <summary>An APP1 "Exif" segment with one IFD0 entry, Orientation (0x0112, SHORT), inserted right after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new byte[8 + 2 + 12 + 4];
        "MM"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(10), 0x0112);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(12), 3);
        BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(18), orientation);
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + payload.Length));
        payload.CopyTo(segment, 4);
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    /// <summary>What phones and tools leave after a JPEG's end marker.</summary>
    public static byte[] Trailer(string kind) => kind switch
    {
        "newline" => "\n"u8.ToArray(),
        "zero padding" => new byte[4096],
        // Samsung: tagged records, then "SEFT" and the directory's offset, as the camera app writes them.
        "samsung" => [.. "SEFH"u8, 0x6B, 0, 0, 0, 1, 0, 0, 0, .. Encoding.ASCII.GetBytes("Image_UTC_Data1700000000000"), 0x10, 0, 0, 0, .. "SEFT"u8],
        // A motion photo: an MP4 (ftyp box, then an mdat with bytes that include FF D9 and FF D8) appended to the still.
        "motion photo" => [0, 0, 0, 0x18, .. "ftypmp42"u8, 0, 0, 0, 0, .. "mp42isom"u8, 0, 0, 0x10, 0x10, .. "mdat"u8,
            .. Enumerable.Range(0, 4096 - 8).Select(i => (byte)(i % 7 == 0 ? 0xFF : i % 7 == 1 ? 0xD9 : i * 31))],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>A PNG whose IDAT data is replaced by garbage of the same length, every chunk CRC recomputed and right.</summary>
    public static byte[] PngWithGarbageIdat(int width, int height, bool withAlpha = false)
    {
        var png = withAlpha ? TranslucentPng(width, height) : Png(width, height);
        var random = new Random(16);
        var offset = 8;
        while (offset < png.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset));
            var type = png.AsSpan(offset + 4, 4);
            if (type.SequenceEqual("IDAT"u8))
            {
                random.NextBytes(png.AsSpan(offset + 8, length));
                BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(offset + 8 + length), Crc32(png.AsSpan(offset + 4, 4 + length)));
            }
            offset += 12 + length;
        }
        return png;
    }

    /// <summary>The pixel's colour is nearer <paramref name="expected"/> than any other half's colour would be.</summary>
    public static bool IsNear(SKColor actual, SKColor expected) =>
        Math.Abs(actual.Red - expected.Red) + Math.Abs(actual.Green - expected.Green) + Math.Abs(actual.Blue - expected.Blue) < 90;

    /// <summary>The top quarter line is <see cref="Top"/> across (middle and both sides), the bottom quarter line <see cref="Bottom"/>.</summary>
    public static void AssertUpright(SKBitmap bitmap)
    {
        var (x, top, bottom) = (bitmap.Width / 2, bitmap.Height / 4, bitmap.Height * 3 / 4);
        Assert.True(IsNear(bitmap.GetPixel(x, top), Top), $"top is {bitmap.GetPixel(x, top)}");
        Assert.True(IsNear(bitmap.GetPixel(x, bottom), Bottom), $"bottom is {bitmap.GetPixel(x, bottom)}");
        foreach (var across in new[] { bitmap.Width / 8, bitmap.Width * 7 / 8 })
        {
            Assert.True(IsNear(bitmap.GetPixel(across, top), Top), $"the top half is {bitmap.GetPixel(across, top)} at x = {across}");
            Assert.True(IsNear(bitmap.GetPixel(across, bottom), Bottom), $"the bottom half is {bitmap.GetPixel(across, bottom)} at x = {across}");
        }
    }

    private static SKBitmap Halves(int width, int height, bool vertical, bool topFirst)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, (vertical ? y < height / 2 : x < width / 2) == topFirst ? Top : Bottom);
        return bitmap;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format)
    {
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    // PNG's CRC-32 (ISO 3309, polynomial 0xEDB88320), https://www.w3.org/TR/png-3/#5CRC-algorithm
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
