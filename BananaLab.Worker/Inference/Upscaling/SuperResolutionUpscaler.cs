using System.Text.Json;
using BananaLab.Worker.Inference.Imaging;
using BananaLab.Worker.Inference.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;

namespace BananaLab.Worker.Inference.Upscaling;

/// <summary>
/// Enlarges images with the ONNX super-resolution model (input <c>input</c> [1,3,H,W] in [0,1],
/// output [1,3,sH,sW]); without the model it falls back to Skia's cubic resampling, logged once.
/// Works in tiles of at most <see cref="MaxTileCore"/>² input pixels with a margin, sized to the image so that a small
/// image is one small tile; memory stays flat and a 4K image is only ever held once, as the output bitmap.
/// </summary>
public sealed class SuperResolutionUpscaler(OnnxSessionFactory sessions, string modelPath, string displayPath, ILogger logger) : IDisposable
{
    /// <summary>The largest tile core in input pixels: a 256² tile's margins cost 13 % more pixels, a 128² one's 27 %.</summary>
    public const int MaxTileCore = 256;

    /// <summary>
    /// How far the model enlarges the image it is given, at most (two passes of the x4 model). The model restores detail
    /// the image holds; beyond 16× there is none left at the pixel scale, and a third x4 pass over a 1024-pixel
    /// enlargement (90 % of a 4K image's time) only redraws edges the second pass already drew, which the final cubic
    /// resample keeps (BENCHMARKS.md, "Cheaper 4K finishing", with crops at 100 %).
    /// </summary>
    public const int MaxModelEnlargement = 16;

    /// <summary>Covers the network's receptive field (5 input pixels for its convolutions, 2 for its cubic resize) so seams vanish.</summary>
    private const int Margin = 8;

    private readonly Lock _lock = new();
    private OnnxModel? _model;
    private int _scale;
    private int _fallbackLogged;

    /// <summary>
    /// Brings a bitmap to exactly width×height: model passes while more than 2× enlargement remains and the model has
    /// enlarged the source by at most <see cref="MaxModelEnlargement"/>, then one high-quality resample. The last factor
    /// of up to 2× is resampled rather than over-shot by a full model pass (2K would otherwise be computed at 4K and
    /// shrunk), and so is what lies beyond 16× (4K from a 64-pixel image: 64 → 256 → 1024 by the model, then one 4×
    /// resample, bilinear since the model's 16× enlargement has no detail at its pixel scale).
    /// </summary>
    /// <param name="progress">Called after each model tile with the fraction of all this call's tiles done (0–1).</param>
    public SKBitmap UpscaleTo(SKBitmap source, int width, int height, CancellationToken cancellationToken,
        Action<double>? progress = null)
    {
        var current = source;
        var model = TryModel();
        var passes = model is null ? [] : Passes(source.Width, source.Height, width, height);
        var tiles = passes.Sum(pass => pass.Tiles);
        var done = 0;
        void TileDone() => progress?.Invoke(tiles == 0 ? 1 : (double)++done / tiles);
        foreach (var pass in passes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var larger = RunTiled(model!, current, pass, TileDone, cancellationToken);
            if (!ReferenceEquals(current, source)) current.Dispose();
            current = larger;
        }
        if (current.Width == width && current.Height == height)
            return ReferenceEquals(current, source) ? source.Copy() : current;
        // The model's full 16× leaves no detail at the pixel scale, so the cheaper bilinear resample looks the same there.
        var exact = ImageFraming.Resize(current, width, height, smooth: passes.Count > 0 && Math.Pow(_scale, passes.Count) >= MaxModelEnlargement);
        if (!ReferenceEquals(current, source)) current.Dispose();
        return exact;
    }

    private OnnxModel? TryModel()
    {
        if (Volatile.Read(ref _model) is { } open) return open;
        lock (_lock)
        {
            if (_model is not null) return _model;
            if (!File.Exists(modelPath))
            {
                if (Interlocked.Exchange(ref _fallbackLogged, 1) == 0)
                    logger.LogWarning("{Path} is missing; enlarging images with cubic resampling instead", displayPath);
                return null;
            }
            _scale = ReadScale();
            _model = sessions.Open(modelPath, displayPath);
            return _model;
        }
    }

    private int ReadScale()
    {
        var config = Path.Combine(Path.GetDirectoryName(modelPath)!, "config.json");
        if (!File.Exists(config)) return 4;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(config));
            return json.RootElement.TryGetProperty("scale", out var s) && s.TryGetInt32(out var scale) && scale > 1 ? scale : 4;
        }
        catch (JsonException)
        {
            return 4;
        }
    }

    /// <summary>
    /// The model passes <see cref="UpscaleTo"/> makes from w×h to width×height, each with its tile grid: tiles of one
    /// shape per pass, as even as the grid allows and no larger than the image (a 64×36 image is one 80×52 tile).
    /// </summary>
    private List<TilePlan> Passes(int w, int h, int width, int height)
    {
        var passes = new List<TilePlan>();
        for (var enlargement = _scale;
             Math.Max((double)width / w, (double)height / h) > 2.0 && enlargement <= MaxModelEnlargement;
             enlargement *= _scale)
        {
            passes.Add(TilePlan.For(w, h));
            (w, h) = (w * _scale, h * _scale);
        }
        return passes;
    }

    /// <summary>One pass's tiles: <see cref="Columns"/>×<see cref="Rows"/> cores of <see cref="CoreWidth"/>×<see cref="CoreHeight"/> input pixels.</summary>
    private readonly record struct TilePlan(int Columns, int Rows, int CoreWidth, int CoreHeight)
    {
        public int Tiles => Columns * Rows;
        public int InputWidth => CoreWidth + 2 * Margin;
        public int InputHeight => CoreHeight + 2 * Margin;

        public static TilePlan For(int w, int h)
        {
            int columns = (w + MaxTileCore - 1) / MaxTileCore, rows = (h + MaxTileCore - 1) / MaxTileCore;
            return new TilePlan(columns, rows, (w + columns - 1) / columns, (h + rows - 1) / rows);
        }
    }

    private SKBitmap RunTiled(OnnxModel model, SKBitmap source, TilePlan plan, Action tileDone, CancellationToken cancellationToken)
    {
        var scale = _scale;
        var input = model.Input(0, "input");
        var output = model.Output(0, "output");
        int inW = plan.InputWidth, inH = plan.InputHeight, outW = inW * scale, outH = inH * scale;
        using var inBuffer = new TensorBuffer(input.ElementType, 1, 3, inH, inW);
        using var outBuffer = new TensorBuffer(output.ElementType, 1, 3, outH, outW);
        using var runOptions = new RunOptions();
        string[] inNames = [input.Name], outNames = [output.Name];
        OrtValue[] inValues = [inBuffer.Value], outValues = [outBuffer.Value];

        using var rgba = source.ColorType == SKColorType.Rgba8888 ? null : source.Copy(SKColorType.Rgba8888);
        var pixelSource = rgba ?? source;
        int w = source.Width, h = source.Height, plane = inW * inH, outPlane = outW * outH;
        var result = new SKBitmap(ImageFraming.RgbaInfo(w * scale, h * scale));
        try
        {
            for (var y0 = 0; y0 < h; y0 += plan.CoreHeight)
                for (var x0 = 0; x0 < w; x0 += plan.CoreWidth)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    // Edge pixels are replicated into the margin so every tile has the same shape.
                    var src = pixelSource.GetPixelSpan();
                    var data = inBuffer.Data;
                    for (var ty = 0; ty < inH; ty++)
                    {
                        var sy = Math.Clamp(y0 - Margin + ty, 0, h - 1);
                        for (var tx = 0; tx < inW; tx++)
                        {
                            var sx = Math.Clamp(x0 - Margin + tx, 0, w - 1);
                            var s = (sy * w + sx) * 4;
                            var t = ty * inW + tx;
                            data[t] = src[s] / 255f;
                            data[plane + t] = src[s + 1] / 255f;
                            data[2 * plane + t] = src[s + 2] / 255f;
                        }
                    }
                    inBuffer.Upload();
                    model.Run(runOptions, inNames, inValues, outNames, outValues);
                    outBuffer.Download();

                    var pixels = result.GetPixelSpan();
                    var coreW = Math.Min(plan.CoreWidth, w - x0) * scale;
                    var coreH = Math.Min(plan.CoreHeight, h - y0) * scale;
                    var o = outBuffer.Data;
                    for (var cy = 0; cy < coreH; cy++)
                    {
                        var row = ((y0 * scale + cy) * w * scale + x0 * scale) * 4;
                        var oy = (Margin * scale + cy) * outW + Margin * scale;
                        for (var cx = 0; cx < coreW; cx++)
                        {
                            var p = row + cx * 4;
                            pixels[p] = ImageFraming.ToByte(o[oy + cx]);
                            pixels[p + 1] = ImageFraming.ToByte(o[outPlane + oy + cx]);
                            pixels[p + 2] = ImageFraming.ToByte(o[2 * outPlane + oy + cx]);
                            pixels[p + 3] = 255;
                        }
                    }
                    tileDone();
                }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_lock) _model?.Dispose();
    }
}
