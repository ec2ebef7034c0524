using SkiaSharp;

namespace BananaLab.Worker.Inference.Imaging;

/// <summary>Crop, resample and pixel conversion between model tensors and Skia bitmaps.</summary>
public static class ImageFraming
{
    public static SKImageInfo RgbaInfo(int width, int height) =>
        new(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);

    /// <summary>The centred rectangle of a source with the target's aspect ratio ("cover" framing).</summary>
    public static SKRectI CoverRect(int sourceWidth, int sourceHeight, int targetWidth, int targetHeight)
    {
        var sourceAspect = (double)sourceWidth / sourceHeight;
        var targetAspect = (double)targetWidth / targetHeight;
        int width = sourceWidth, height = sourceHeight;
        if (targetAspect > sourceAspect) height = Math.Clamp((int)Math.Round(sourceWidth / targetAspect), 1, sourceHeight);
        else width = Math.Clamp((int)Math.Round(sourceHeight * targetAspect), 1, sourceWidth);
        var left = (sourceWidth - width) / 2;
        var top = (sourceHeight - height) / 2;
        return new SKRectI(left, top, left + width, top + height);
    }

    /// <summary>A copy of <paramref name="rect"/> of the source as an opaque RGBA bitmap.</summary>
    public static SKBitmap Crop(SKBitmap source, SKRectI rect)
    {
        var target = new SKBitmap(RgbaInfo(rect.Width, rect.Height));
        using var canvas = new SKCanvas(target);
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, rect, new SKRect(0, 0, rect.Width, rect.Height), new SKSamplingOptions(SKFilterMode.Nearest));
        return target;
    }

    /// <summary>
    /// High-quality resample: Mitchell cubic when enlarging or mildly shrinking, trilinear mipmaps
    /// when shrinking by more than 2× (cubic alone would alias there).
    /// </summary>
    public static SKBitmap Resize(SKBitmap source, int width, int height)
    {
        var target = new SKBitmap(RgbaInfo(width, height));
        var shrink = Math.Max((double)source.Width / width, (double)source.Height / height);
        var sampling = shrink > 2
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);
        if (!source.ScalePixels(target, sampling))
        {
            target.Dispose();
            throw new InvalidOperationException($"Could not resample {source.Width}x{source.Height} to {width}x{height}.");
        }
        return target;
    }

    /// <summary>An NCHW RGB tensor in [-1, 1] (VAE decoder output) as an opaque bitmap.</summary>
    public static SKBitmap FromSignedTensor(ReadOnlySpan<float> chw, int width, int height)
    {
        var bitmap = new SKBitmap(RgbaInfo(width, height));
        var pixels = bitmap.GetPixelSpan();
        var plane = width * height;
        for (var i = 0; i < plane; i++)
        {
            pixels[i * 4] = ToByte((chw[i] + 1) * 0.5f);
            pixels[i * 4 + 1] = ToByte((chw[plane + i] + 1) * 0.5f);
            pixels[i * 4 + 2] = ToByte((chw[2 * plane + i] + 1) * 0.5f);
            pixels[i * 4 + 3] = 255;
        }
        return bitmap;
    }

    /// <summary>A bitmap as an NCHW RGB tensor in [-1, 1] (VAE encoder input).</summary>
    public static void ToSignedTensor(SKBitmap bitmap, Span<float> chw)
    {
        using var rgba = bitmap.ColorType == SKColorType.Rgba8888 ? null : bitmap.Copy(SKColorType.Rgba8888);
        var pixels = (rgba ?? bitmap).GetPixelSpan();
        var plane = bitmap.Width * bitmap.Height;
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
                chw[c * plane + i] = pixels[i * 4 + c] / 127.5f - 1f;
    }

    public static byte ToByte(float unit) => (byte)Math.Clamp((int)MathF.Round(unit * 255f), 0, 255);
}
