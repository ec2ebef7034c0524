using BananaLab.Core.Storage;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace BananaLab.Web.Pages.Media;

/// <summary>
/// 256-pixel WebP thumbnails for history and admin lists, made on first request and kept under
/// <c>{data}/thumbnails</c> by the image's SHA-256 (images never change, so neither do their thumbnails).
/// </summary>
public sealed class Thumbnails(ImageStore store)
{
    public const int Edge = 256;

    public async Task<string> GetAsync(string originalPath, string sha256, CancellationToken cancellationToken)
    {
        var path = store.ThumbnailPath(sha256, Edge);
        if (File.Exists(path)) return path;

        var bytes = await File.ReadAllBytesAsync(originalPath, cancellationToken);
        using var original = SKBitmap.Decode(bytes) ?? throw new InvalidDataException($"'{originalPath}' is not a readable image.");
        using var small = Downscale(original, Edge);
        using var encoded = small.Encode(SKEncodedImageFormat.Webp, 80);

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write then rename, so a concurrent request never serves half a file.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await using (var file = File.Create(temporary)) encoded.SaveTo(file);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>A copy no larger than <paramref name="edge"/> pixels on its longer side, aspect ratio kept.</summary>
    public static SKBitmap Downscale(SKBitmap original, int edge)
    {
        var scale = Math.Min(1.0, (double)edge / Math.Max(original.Width, original.Height));
        var info = new SKImageInfo(Math.Max(1, (int)Math.Round(original.Width * scale)), Math.Max(1, (int)Math.Round(original.Height * scale)));
        return original.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell)) ?? original.Copy();
    }
}
