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
/// Works in fixed-size tiles with a margin so memory stays flat and a 4K image is only ever held
/// once, as the output bitmap.
/// </summary>
public sealed class SuperResolutionUpscaler(OnnxSessionFactory sessions, string modelPath, string displayPath, ILogger logger) : IDisposable
{
    /// <summary>Tile core in input pixels; the margin covers the network's receptive field so seams vanish.</summary>
    private const int TileCore = 128;
    private const int Margin = 8;
    private const int TileInput = TileCore + 2 * Margin;

    private readonly Lock _lock = new();
    private OnnxModel? _model;
    private int _scale;
    private int _fallbackLogged;

    /// <summary>
    /// Brings a bitmap to exactly width×height: model passes while more than 2× enlargement remains,
    /// then one high-quality resample. The last factor of up to 2× is resampled rather than
    /// over-shot by a full model pass (2K would otherwise be computed at 4K and shrunk).
    /// </summary>
    /// <param name="progress">Called after each model tile with the fraction of all this call's tiles done (0–1).</param>
    public SKBitmap UpscaleTo(SKBitmap source, int width, int height, CancellationToken cancellationToken,
        Action<double>? progress = null)
    {
        var current = source;
        var model = TryModel();
        var tiles = model is null ? 0 : TilesFor(source.Width, source.Height, width, height);
        var done = 0;
        void TileDone() => progress?.Invoke(tiles == 0 ? 1 : (double)++done / tiles);
        while (model is not null && Math.Max((double)width / current.Width, (double)height / current.Height) > 2.0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var larger = RunTiled(model, current, TileDone, cancellationToken);
            if (!ReferenceEquals(current, source)) current.Dispose();
            current = larger;
        }
        if (current.Width == width && current.Height == height)
            return ReferenceEquals(current, source) ? source.Copy() : current;
        var exact = ImageFraming.Resize(current, width, height);
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

    /// <summary>How many model tiles <see cref="UpscaleTo"/> runs from w×h to the target (the passes it makes, each tiled).</summary>
    private int TilesFor(int w, int h, int width, int height)
    {
        var tiles = 0;
        while (Math.Max((double)width / w, (double)height / h) > 2.0)
        {
            tiles += (w + TileCore - 1) / TileCore * ((h + TileCore - 1) / TileCore);
            (w, h) = (w * _scale, h * _scale);
        }
        return tiles;
    }

    private SKBitmap RunTiled(OnnxModel model, SKBitmap source, Action tileDone, CancellationToken cancellationToken)
    {
        var scale = _scale;
        var input = model.Input(0, "input");
        var output = model.Output(0, "output");
        var outTile = TileInput * scale;
        using var inBuffer = new TensorBuffer(input.ElementType, 1, 3, TileInput, TileInput);
        using var outBuffer = new TensorBuffer(output.ElementType, 1, 3, outTile, outTile);
        using var runOptions = new RunOptions();
        string[] inNames = [input.Name], outNames = [output.Name];
        OrtValue[] inValues = [inBuffer.Value], outValues = [outBuffer.Value];

        using var rgba = source.ColorType == SKColorType.Rgba8888 ? null : source.Copy(SKColorType.Rgba8888);
        var src = (rgba ?? source).GetPixelSpan().ToArray();
        int w = source.Width, h = source.Height, plane = TileInput * TileInput, outPlane = outTile * outTile;
        var result = new SKBitmap(ImageFraming.RgbaInfo(w * scale, h * scale));
        try
        {
            for (var y0 = 0; y0 < h; y0 += TileCore)
                for (var x0 = 0; x0 < w; x0 += TileCore)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    // Edge pixels are replicated into the margin so every tile has the same shape.
                    var data = inBuffer.Data;
                    for (var ty = 0; ty < TileInput; ty++)
                    {
                        var sy = Math.Clamp(y0 - Margin + ty, 0, h - 1);
                        for (var tx = 0; tx < TileInput; tx++)
                        {
                            var sx = Math.Clamp(x0 - Margin + tx, 0, w - 1);
                            var s = (sy * w + sx) * 4;
                            var t = ty * TileInput + tx;
                            data[t] = src[s] / 255f;
                            data[plane + t] = src[s + 1] / 255f;
                            data[2 * plane + t] = src[s + 2] / 255f;
                        }
                    }
                    inBuffer.Upload();
                    model.Run(runOptions, inNames, inValues, outNames, outValues);
                    outBuffer.Download();

                    var pixels = result.GetPixelSpan();
                    var coreW = Math.Min(TileCore, w - x0) * scale;
                    var coreH = Math.Min(TileCore, h - y0) * scale;
                    var o = outBuffer.Data;
                    for (var cy = 0; cy < coreH; cy++)
                    {
                        var row = ((y0 * scale + cy) * w * scale + x0 * scale) * 4;
                        var oy = (Margin * scale + cy) * outTile + Margin * scale;
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
