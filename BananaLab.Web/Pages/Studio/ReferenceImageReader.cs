using BananaLab.Core.Images;
using BananaLab.Core.Storage;
using BananaLab.Web.Pages.Media;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace BananaLab.Web.Pages.Studio;

/// <summary>
/// Checks a reference image the moment it is picked, with the limits <c>TaskService</c> applies at submit,
/// so a bad file gets its message next to the picker instead of after Generate.
/// </summary>
public sealed class ReferenceImageReader(IOptions<StorageOptions> storage)
{
    private const int PreviewEdge = 144;

    public long MaxBytes => storage.Value.MaxReferenceImageBytes;

    /// <summary>The image, or a message saying exactly what is wrong with the file.</summary>
    public (ReferenceImage? Image, string? Error) Read(byte[] data, string fileName)
    {
        if (data.Length == 0) return (null, "The file is empty.");
        if (data.Length > MaxBytes) return (null, $"The file is larger than {MaxBytes / (1024 * 1024)} MB.");
        if (!ImageHeader.TryRead(data, out var header, out var error)) return (null, $"This file can't be used: {error}");
        if (header!.Pixels > storage.Value.MaxReferenceImagePixels)
            return (null, $"The image is {header.Width}×{header.Height}, more than {storage.Value.MaxReferenceImagePixels:N0} pixels.");

        using var bitmap = ImageDecoding.DecodeUpright(data, out var damaged);
        if (bitmap is null) return (null, $"This file can't be used: {damaged}");
        using var small = Thumbnails.Downscale(bitmap, PreviewEdge);
        using var png = small.Encode(SKEncodedImageFormat.Png, 100);
        var preview = "data:image/png;base64," + Convert.ToBase64String(png.AsSpan());
        return (new ReferenceImage(data, fileName, bitmap.Width, bitmap.Height, preview), null);
    }
}
