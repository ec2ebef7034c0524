using System.Buffers.Binary;

namespace BananaLab.Core.Images;

/// <summary>
/// Reads the format and pixel size of an uploaded image from its first bytes, without decoding it,
/// so oversized or disguised files are refused before any decoder sees them.
/// </summary>
public sealed record ImageHeader(string ContentType, string Extension, int Width, int Height)
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public long Pixels => (long)Width * Height;

    public static bool TryRead(ReadOnlySpan<byte> data, out ImageHeader? header, out string error)
    {
        header = null;
        if (data.Length < 16) { error = "the file is too short to be an image."; return false; }

        if (data.StartsWith(PngSignature)) return TryReadPng(data, out header, out error);
        if (data[0] == 0xFF && data[1] == 0xD8) return TryReadJpeg(data, out header, out error);
        if (data.StartsWith("RIFF"u8) && data[8..].StartsWith("WEBP"u8)) return TryReadWebp(data, out header, out error);

        error = "only PNG, JPEG and WebP images are accepted.";
        return false;
    }

    /// <summary>
    /// Whether a PNG (already read by <see cref="TryRead"/>) can hold transparency: colour type 4 (grey + alpha) or
    /// 6 (RGBA) in its IHDR, or a <c>tRNS</c> chunk (PNG 1.2, sections 4.1.1 and 4.2.1.1).
    /// </summary>
    public static bool PngHasAlpha(ReadOnlySpan<byte> data)
    {
        if (data.Length < 26 || !data.StartsWith(PngSignature)) return false;
        if (data[25] is 4 or 6) return true;
        for (var offset = 8L; offset + 8 <= data.Length;)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[(int)offset..]);
            var type = data[(int)(offset + 4)..(int)(offset + 8)];
            if (type.SequenceEqual("tRNS"u8)) return true;
            if (type.SequenceEqual("IDAT"u8) || type.SequenceEqual("IEND"u8)) return false;
            offset += 12L + length;
        }
        return false;
    }

    private static bool TryReadPng(ReadOnlySpan<byte> data, out ImageHeader? header, out string error)
    {
        header = null;
        if (data.Length < 24 || !data[12..16].SequenceEqual("IHDR"u8)) { error = "the PNG header is damaged."; return false; }
        // Walk the chunks to IEND: a truncated upload is refused now, not when the worker decodes it.
        var offset = 8L;
        while (true)
        {
            if (offset + 12 > data.Length) { error = "the PNG file is truncated."; return false; }
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[(int)offset..]);
            var isEnd = data[(int)(offset + 4)..(int)(offset + 8)].SequenceEqual("IEND"u8);
            offset += 12L + length;
            if (isEnd) break;
        }
        var width = BinaryPrimitives.ReadInt32BigEndian(data[16..]);
        var height = BinaryPrimitives.ReadInt32BigEndian(data[20..]);
        return Accept("image/png", ".png", width, height, out header, out error);
    }

    private static bool TryReadJpeg(ReadOnlySpan<byte> data, out ImageHeader? header, out string error)
    {
        header = null;
        var i = 2;
        while (i + 9 < data.Length)
        {
            if (data[i] != 0xFF) { error = "the JPEG header is damaged."; return false; }
            var marker = data[i + 1];
            if (marker == 0xFF) { i++; continue; }
            if (marker is 0xD8 or 0x01 || marker is >= 0xD0 and <= 0xD7) { i += 2; continue; }
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
            if (length < 2) break;
            // Start-of-frame markers carry the size (C0-CF except C4, C8 and CC).
            if (marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC))
            {
                // The end marker follows the frame; whatever comes after it (a newline, padding, a Samsung trailer,
                // a motion photo's video) is not the image's, and the full decode at intake checks the scans between.
                if (data[(i + 2)..].IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) < 0) { error = "the JPEG file is truncated."; return false; }
                var height = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]);
                var width = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]);
                return Accept("image/jpeg", ".jpg", width, height, out header, out error);
            }
            i += 2 + length;
        }
        error = "the JPEG file ends before its size is given.";
        return false;
    }

    private static bool TryReadWebp(ReadOnlySpan<byte> data, out ImageHeader? header, out string error)
    {
        header = null;
        if (data.Length < 30) { error = "the WebP header is damaged."; return false; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) + 8L > data.Length) { error = "the WebP file is truncated."; return false; }
        var chunk = data[12..16];
        int width, height;
        if (chunk.SequenceEqual("VP8 "u8))
        {
            if (data[23] != 0x9D || data[24] != 0x01 || data[25] != 0x2A) { error = "the WebP header is damaged."; return false; }
            width = BinaryPrimitives.ReadUInt16LittleEndian(data[26..]) & 0x3FFF;
            height = BinaryPrimitives.ReadUInt16LittleEndian(data[28..]) & 0x3FFF;
        }
        else if (chunk.SequenceEqual("VP8L"u8))
        {
            if (data[20] != 0x2F) { error = "the WebP header is damaged."; return false; }
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[21..]);
            width = (int)(bits & 0x3FFF) + 1;
            height = (int)((bits >> 14) & 0x3FFF) + 1;
        }
        else if (chunk.SequenceEqual("VP8X"u8))
        {
            width = (data[24] | data[25] << 8 | data[26] << 16) + 1;
            height = (data[27] | data[28] << 8 | data[29] << 16) + 1;
        }
        else
        {
            error = "the WebP header is damaged.";
            return false;
        }
        return Accept("image/webp", ".webp", width, height, out header, out error);
    }

    private static bool Accept(string contentType, string extension, int width, int height, out ImageHeader? header, out string error)
    {
        header = null;
        if (width <= 0 || height <= 0) { error = "the image has no pixels."; return false; }
        header = new ImageHeader(contentType, extension, width, height);
        error = "";
        return true;
    }
}
