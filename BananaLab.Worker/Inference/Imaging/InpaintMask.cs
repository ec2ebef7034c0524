using BananaLab.Core.Generation;
using BananaLab.Core.Images;
using SkiaSharp;

namespace BananaLab.Worker.Inference.Imaging;

/// <summary>
/// A mask as OpenAI's images API defines it: a PNG the size of the image whose fully transparent pixels (alpha 0) are to be
/// repainted, the rest kept. Read as repaint weights in [0, 1] (1 − alpha/255) at any size, framed exactly as the reference
/// is (<see cref="ImageFraming.Fit"/>: cropped to cover, or fitted to contain with the bars repainted), so weight and
/// reference pixels line up.
/// </summary>
public static class InpaintMask
{
    /// <summary>
    /// Repaint weights, row-major <c>[height · width]</c>, of the mask at <paramref name="path"/> framed to
    /// <paramref name="width"/>×<paramref name="height"/> as <paramref name="fit"/> frames the reference (area-averaged when
    /// shrinking, so a latent cell is as repainted as the pixels it covers); contain's bars have weight 1, repainted.
    /// Throws <c>reference_image_unreadable</c> when it does not decode.
    /// </summary>
    public static float[] Weights(string path, int width, int height, ReferenceFit fit = ReferenceFit.Cover)
    {
        using var mask = AlphaAsGrey(path);
        using var source = ImageFraming.Fit(mask, width, height, fit, SKColors.Black);
        // Packed RGBA rows (Fit draws on an RgbaInfo bitmap): the red byte of each pixel, not GetPixel, which costs seconds at 4K.
        var grey = source.GetPixelSpan();
        var weights = new float[width * height];
        for (var p = 0; p < weights.Length; p++) weights[p] = 1f - grey[p * 4] / 255f;
        return weights;
    }

    /// <summary>
    /// The finished image with every kept pixel taken from the reference: out = w·generated + (1 − w)·reference, with the
    /// reference and the mask framed and resampled to the generated image's size. Where the reference already has that
    /// size, kept pixels are the reference's own bytes.
    /// </summary>
    public static SKBitmap Composite(SKBitmap generated, string referencePath, string maskPath, ReferenceFit fit = ReferenceFit.Cover)
    {
        int width = generated.Width, height = generated.Height;
        var weights = Weights(maskPath, width, height, fit);
        using var reference = Decode(referencePath);
        using var opaque = ImageFraming.ToOpaque(reference);
        using var kept = ImageFraming.Fit(opaque, width, height, fit);
        // Both sides as tightly packed RGBA rows, blended byte by byte: GetPixel/SetPixel cost seconds at 4K.
        using var generatedRgba = generated.ColorType == SKColorType.Rgba8888 ? null : ImageFraming.ToOpaque(generated);
        var result = new SKBitmap(ImageFraming.RgbaInfo(width, height));
        var from = (generatedRgba ?? generated).GetPixelSpan();
        var keep = kept.GetPixelSpan();
        var to = result.GetPixelSpan();
        for (var p = 0; p < weights.Length; p++)
        {
            var (w, o) = (weights[p], p * 4);
            for (var c = 0; c < 3; c++)
                to[o + c] = w switch { 0 => keep[o + c], 1 => from[o + c], _ => Mix(from[o + c], keep[o + c], w) };
            to[o + 3] = 255;
        }
        return result;
    }

    /// <summary>The mask's alpha as an opaque grey picture, so framing and resampling (which draw on opaque bitmaps) keep it.</summary>
    private static SKBitmap AlphaAsGrey(string path)
    {
        using var mask = Decode(path);
        var grey = new SKBitmap(ImageFraming.RgbaInfo(mask.Width, mask.Height));
        var from = mask.GetPixelSpan();
        var to = grey.GetPixelSpan();
        for (var i = 0; i < from.Length; i += 4)
        {
            var alpha = from[i + 3];
            (to[i], to[i + 1], to[i + 2], to[i + 3]) = (alpha, alpha, alpha, 255);
        }
        return grey;
    }

    private static byte Mix(byte generated, byte kept, float weight) => (byte)MathF.Round(weight * generated + (1 - weight) * kept);

    /// <summary>Decodes to unpremultiplied RGBA, so the alpha (and the colour under it) is read as stored.</summary>
    private static SKBitmap Decode(string path)
    {
        using var codec = File.Exists(path) ? SKCodec.Create(path) : null;
        if (codec is null)
            throw new GenerationException(GenerationErrors.ReferenceImageUnreadable, "The reference image or its mask could not be read.");
        var bitmap = new SKBitmap(new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            bitmap.Dispose();
            throw new GenerationException(GenerationErrors.ReferenceImageUnreadable, $"The reference image or its mask could not be decoded ({result}).");
        }
        return bitmap;
    }
}
