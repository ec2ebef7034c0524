using BananaLab.Core.Images;
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

    /// <summary>
    /// The source framed to exactly <paramref name="width"/>×<paramref name="height"/>: with <see cref="ReferenceFit.Cover"/>
    /// its centred <see cref="CoverRect"/> resized to fill (the edges beyond the target's aspect are lost); with
    /// <see cref="ReferenceFit.Contain"/> all of it resized to fit inside and centred, the bars on either side filled
    /// with the source's mean colour (<see cref="MeanColour"/>) or <paramref name="padding"/>, which image-to-image then
    /// repaints like any flat area, where an edge extension would smear stripes the model keeps. A part already at its
    /// size is copied, not resampled. A new opaque RGBA bitmap.
    /// </summary>
    public static SKBitmap Fit(SKBitmap source, int width, int height, ReferenceFit fit, SKColor? padding = null)
    {
        if (fit == ReferenceFit.Cover)
        {
            var framed = Crop(source, CoverRect(source.Width, source.Height, width, height));
            if (framed.Width == width && framed.Height == height) return framed;
            using (framed) return Resize(framed, width, height);
        }
        var scale = Math.Min((double)width / source.Width, (double)height / source.Height);
        var innerWidth = Math.Clamp((int)Math.Round(source.Width * scale), 1, width);
        var innerHeight = Math.Clamp((int)Math.Round(source.Height * scale), 1, height);
        using var resized = innerWidth == source.Width && innerHeight == source.Height ? null : Resize(source, innerWidth, innerHeight);
        var inner = resized ?? source;
        var target = new SKBitmap(RgbaInfo(width, height));
        using var canvas = new SKCanvas(target);
        canvas.Clear(padding ?? MeanColour(source));
        using var image = SKImage.FromBitmap(inner);
        canvas.DrawImage(image, (width - innerWidth) / 2, (height - innerHeight) / 2, new SKSamplingOptions(SKFilterMode.Nearest), null);
        return target;
    }

    /// <summary>The average of every pixel's red, green and blue (alpha ignored), as an opaque colour.</summary>
    public static SKColor MeanColour(SKBitmap source)
    {
        using var rgba = source.ColorType == SKColorType.Rgba8888 ? null : source.Copy(SKColorType.Rgba8888);
        var pixels = (rgba ?? source).GetPixelSpan();
        long r = 0, g = 0, b = 0;
        for (var i = 0; i < pixels.Length; i += 4)
        {
            r += pixels[i];
            g += pixels[i + 1];
            b += pixels[i + 2];
        }
        var count = Math.Max(1, pixels.Length / 4);
        return new SKColor((byte)(r / count), (byte)(g / count), (byte)(b / count));
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
    /// when shrinking by more than 2× (cubic alone would alias there). A <paramref name="smooth"/> source, one with no
    /// detail at its own pixel scale (the super-resolution model's 16× enlargement), is enlarged bilinearly: on such an
    /// image bilinear and Mitchell differ by at most 5 of 255 and 0.014 on average, and bilinear takes 40 % of the time
    /// (a 4K image: 125 ms against 313 ms; BENCHMARKS.md, "Cheaper 4K finishing").
    /// </summary>
    public static SKBitmap Resize(SKBitmap source, int width, int height, bool smooth = false)
    {
        var target = new SKBitmap(RgbaInfo(width, height));
        var shrink = Math.Max((double)source.Width / width, (double)source.Height / height);
        var sampling = shrink > 2 ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : smooth && shrink < 1 ? new SKSamplingOptions(SKFilterMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);
        if (!source.ScalePixels(target, sampling))
        {
            target.Dispose();
            throw new InvalidOperationException($"Could not resample {source.Width}x{source.Height} to {width}x{height}.");
        }
        return target;
    }

    /// <summary>An NCHW RGB tensor in [-1, 1] (VAE decoder output) as opaque RGBA pixels, row by row.</summary>
    public static byte[] RgbaFromSignedTensor(ReadOnlySpan<float> chw, int width, int height)
    {
        var plane = width * height;
        var pixels = new byte[plane * 4];
        for (var i = 0; i < plane; i++)
        {
            pixels[i * 4] = ToByte((chw[i] + 1) * 0.5f);
            pixels[i * 4 + 1] = ToByte((chw[plane + i] + 1) * 0.5f);
            pixels[i * 4 + 2] = ToByte((chw[2 * plane + i] + 1) * 0.5f);
            pixels[i * 4 + 3] = 255;
        }
        return pixels;
    }

    /// <summary>Opaque RGBA pixels, row by row, as a bitmap of their own.</summary>
    public static SKBitmap FromRgba(int width, int height, ReadOnlySpan<byte> rgba)
    {
        if (width < 1 || height < 1 || rgba.Length != width * height * 4)
            throw new ArgumentException($"{rgba.Length} bytes are not {width}x{height} RGBA pixels.", nameof(rgba));
        var bitmap = new SKBitmap(RgbaInfo(width, height));
        rgba.CopyTo(bitmap.GetPixelSpan());
        return bitmap;
    }

    /// <summary>The image composited on white as an opaque RGBA bitmap (transparent pixels look as a viewer shows them); a copy.</summary>
    public static SKBitmap ToOpaque(SKBitmap source)
    {
        var target = new SKBitmap(RgbaInfo(source.Width, source.Height));
        using var canvas = new SKCanvas(target);
        canvas.Clear(SKColors.White);
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest), null);
        return target;
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
