using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

namespace BananaLab.Worker.Inference.Imaging;

/// <summary>
/// PNG encoding with ONNX Runtime Extensions' <c>EncodeImage</c> operator (libpng), over the graph <c>png_encoder.onnx</c>
/// (pixels uint8 <c>[H, W, 3]</c>, RGB → PNG bytes uint8 <c>[N]</c>; written by <c>tools/bench-codecs/make_graphs.py</c>).
/// On this project's images it is 3.5 times as fast as SkiaSharp's PNG encoder for files 4 % larger (BENCHMARKS.md,
/// "Image codecs"). It takes opaque 8-bit RGB(A) only, which is what the finishing step makes; anything else, or a host
/// where the Extensions library does not load, goes to SkiaSharp (<see cref="ImageEncoding"/>).
/// </summary>
public static class ExtensionsPngEncoder
{
    private const string GraphResource = "BananaLab.Worker.Inference.Imaging.png_encoder.onnx";
    private static readonly Lazy<InferenceSession?> Session = new(Open);

    /// <summary>Whether the Extensions library loaded and the graph opened in this process.</summary>
    public static bool Available => Session.Value is not null;

    /// <summary>Whether <paramref name="bitmap"/> is one this encoder takes: opaque, 8 bits per channel, RGBA or BGRA order.</summary>
    public static bool Accepts(SKBitmap bitmap) =>
        bitmap.AlphaType == SKAlphaType.Opaque && bitmap.ColorType is SKColorType.Rgba8888 or SKColorType.Bgra8888;

    /// <summary>Encodes <paramref name="bitmap"/> as an 8-bit RGB PNG into <paramref name="destination"/>; false when it cannot (then nothing is written).</summary>
    public static bool TryEncode(SKBitmap bitmap, Stream destination)
    {
        if (!Accepts(bitmap) || Session.Value is not { } session) return false;
        try
        {
            // The RGB copy lives in memory ONNX Runtime allocates and frees at once: a 4K image's 48 MB never reaches the GC heap.
            using var input = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.UInt8,
                [bitmap.Height, bitmap.Width, 3]);
            ToRgb(bitmap, input.GetTensorMutableDataAsSpan<byte>());
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["pixels"], [input], ["image"]);
            destination.Write(outputs[0].GetTensorDataAsSpan<byte>());
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }

    private static void ToRgb(SKBitmap bitmap, Span<byte> rgb)
    {
        var pixels = bitmap.GetPixelSpan();
        var (red, blue) = bitmap.ColorType == SKColorType.Rgba8888 ? (0, 2) : (2, 0);
        var rowBytes = bitmap.RowBytes;
        var o = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            var row = pixels.Slice(y * rowBytes, bitmap.Width * 4);
            for (var x = 0; x < row.Length; x += 4)
            {
                rgb[o++] = row[x + red];
                rgb[o++] = row[x + 1];
                rgb[o++] = row[x + blue];
            }
        }
    }

    private static InferenceSession? Open()
    {
        try
        {
            using var stream = typeof(ExtensionsPngEncoder).Assembly.GetManifestResourceStream(GraphResource)
                               ?? throw new InvalidOperationException($"{GraphResource} is not embedded.");
            using var graph = new MemoryStream();
            stream.CopyTo(graph);
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            options.RegisterOrtExtensions();
            return new InferenceSession(graph.ToArray(), options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }
}
