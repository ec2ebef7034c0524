// Image decoding and encoding, SkiaSharp (what the worker uses) against ONNX Runtime Extensions' DecodeImage and
// EncodeImage operators (graphs from make_graphs.py), on the same bytes in the same run. Every measurement runs in a
// child process of its own, codecs alternating, so each one's memory is its own:
//
//   dotnet run -c Release --project tools/bench-codecs [-- --rounds 3 --iterations 20 --size 1024]
//
// Per operation: median wall time over the rounds (ms), managed bytes allocated, and how far the child's peak resident
// memory (VmHWM) rose above its resident memory just before the timed loop (MB).
using System.Diagnostics;
using System.Globalization;
using BananaLab.Bench;
using BananaLab.Worker.Inference.Imaging;
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;

const string SkiaTuned = "skia-png-Sub-6";
if (args.Length > 0 && args[0] == "--child") return Child(args[1], args[2], args[3], int.Parse(args[4], CultureInfo.InvariantCulture));

var rounds = IntArg("--rounds", 3);
var iterations = IntArg("--iterations", 20);
var size = IntArg("--size", 1024);
if (Array.IndexOf(args, "--images") is var at and >= 0) return WriteImages(args[at + 1], size);
var work = Directory.CreateTempSubdirectory("bench-codecs");
try
{
    WriteImages(work.FullName, size);
    Console.WriteLine($"bench-codecs: {size}x{size} picture, {iterations} operations per child, {rounds} rounds, " +
                      $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    Console.WriteLine($"PNG {new FileInfo(Path.Combine(work.FullName, "image.png")).Length / 1024} KiB, JPEG {new FileInfo(Path.Combine(work.FullName, "image.jpg")).Length / 1024} KiB");
    string[] operations = ["decode-png", "decode-jpg", "encode-png", "encode-jpg"];
    // PNG encoding has a third contender: SkiaSharp tuned (Sub filter, zlib 6), the fastest Skia setting that keeps the
    // file as small as Extensions'.
    string[] Codecs(string operation) => operation == "encode-png" ? ["skia", SkiaTuned, "ortx"] : ["skia", "ortx"];
    var results = new Dictionary<(string, string), List<double[]>>();
    for (var round = 0; round < rounds; round++)
        foreach (var operation in operations)
            foreach (var codec in round % 2 == 0 ? Codecs(operation) : Codecs(operation).Reverse())
            {
                var figures = RunChild(codec, operation, work.FullName, iterations);
                (results.TryGetValue((operation, codec), out var list) ? list : results[(operation, codec)] = []).Add(figures);
            }
    Console.WriteLine();
    Console.WriteLine("| operation | codec | ms/op (median) | managed KiB/op | peak RSS rise MB | output KiB |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|");
    foreach (var operation in operations)
        foreach (var codec in Codecs(operation))
        {
            var runs = results[(operation, codec)];
            double Median(int i) => runs.Select(r => r[i]).Order().ElementAt(runs.Count / 2);
            Console.WriteLine($"| {operation} | {codec switch { "skia" => "SkiaSharp", SkiaTuned => "SkiaSharp, Sub filter", _ => "ORT Extensions" }} | {Median(0):F1} | {Median(1) / 1024:F0} | " +
                              $"{Median(2):F1} | {Median(3) / 1024:F0} |");
        }
    return 0;
}
finally
{
    work.Delete(recursive: true);
}

int IntArg(string name, int fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;

// The picture as PNG and as JPEG (quality 92, the worker's), the inputs of every child.
static int WriteImages(string folder, int size)
{
    using var picture = Picture(size);
    File.WriteAllBytes(Path.Combine(folder, "image.png"), picture.Encode(SKEncodedImageFormat.Png, 100).ToArray());
    File.WriteAllBytes(Path.Combine(folder, "image.jpg"), picture.Encode(SKEncodedImageFormat.Jpeg, 92).ToArray());
    return 0;
}

static double[] RunChild(string codec, string operation, string folder, int iterations)
{
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
    foreach (var arg in new[] { typeof(Program).Assembly.Location, "--child", codec, operation, folder, iterations.ToString(CultureInfo.InvariantCulture) })
        start.ArgumentList.Add(arg);
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) != "dotnet") start.ArgumentList.RemoveAt(0);
    using var child = Process.Start(start)!;
    var line = child.StandardOutput.ReadToEnd().Trim();
    child.WaitForExit();
    if (child.ExitCode != 0) throw new InvalidOperationException($"{codec} {operation} exited with {child.ExitCode}: {line}");
    return line.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
}

// One codec doing one operation (codecs: skia, as ImageEncoding calls it; skia-png-FILTER-LEVEL, SkiaSharp's PNG encoder
// with SKPngEncoderOptions; ortx, the Extensions graph) `iterations` times after one warm-up; prints "ms/op managedBytes/op rssRiseMB outputBytes".
static int Child(string codec, string operation, string folder, int iterations)
{
    var format = operation.EndsWith("png", StringComparison.Ordinal) ? "png" : "jpg";
    var encoded = File.ReadAllBytes(Path.Combine(folder, $"image.{format}"));
    using var bitmap = SKBitmap.Decode(Path.Combine(folder, "image.png"));
    Func<long> once;
    if (codec.StartsWith("skia-png-", StringComparison.Ordinal))
    {
        var parts = codec["skia-png-".Length..].Split('-');
        var filters = Enum.Parse<SKPngEncoderFilterFlags>(parts[0]);
        var level = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 6;
        once = () =>
        {
            using var pixmap = bitmap.PeekPixels();
            var counter = new CountingStream();
            using (var skia = new SKManagedWStream(counter)) pixmap.Encode(skia, new SKPngEncoderOptions(filters, level));
            return counter.Length;
        };
    }
    else if (codec == "skia")
    {
        once = operation.StartsWith("decode", StringComparison.Ordinal)
            ? () => { using var decoded = SKBitmap.Decode(encoded); return decoded.ByteCount; }
            : () =>
            {
                var counter = new CountingStream();
                if (!bitmap.Encode(counter, format == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, format == "png" ? 100 : 92))
                    throw new InvalidOperationException("Skia could not encode.");
                return counter.Length;
            };
    }
    else if (operation == "encode-png")
    {
        // The worker's own path: RGBA to RGB, then the embedded EncodeImage graph.
        if (!ExtensionsPngEncoder.Accepts(bitmap) || !ExtensionsPngEncoder.Available)
            throw new InvalidOperationException("ExtensionsPngEncoder does not take this bitmap here.");
        once = () =>
        {
            var counter = new CountingStream();
            ExtensionsPngEncoder.TryEncode(bitmap, counter);
            return counter.Length;
        };
    }
    else
    {
        using var options = new SessionOptions();
        options.RegisterOrtExtensions();
        var decode = operation.StartsWith("decode", StringComparison.Ordinal);
        var session = new InferenceSession(Path.Combine(AppContext.BaseDirectory, decode ? "decode_image.onnx" : "encode_jpg.onnx"), options);
        if (decode)
            once = () =>
            {
                using var input = OrtValue.CreateTensorValueFromMemory(encoded, [encoded.Length]);
                using var output = session.Run(new RunOptions(), ["image"], [input], ["pixels"]);
                return output[0].GetTensorTypeAndShape().ElementCount;
            };
        else
        {
            var rgb = Rgb(bitmap);
            once = () =>
            {
                using var input = OrtValue.CreateTensorValueFromMemory(rgb, [bitmap.Height, bitmap.Width, 3]);
                using var output = session.Run(new RunOptions(), ["pixels"], [input], ["image"]);
                return output[0].GetTensorTypeAndShape().ElementCount;
            };
        }
    }
    var size = once();
    GC.Collect();
    var rssBefore = Status("VmRSS");
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < iterations; i++) size = once();
    var ms = clock.Elapsed.TotalMilliseconds / iterations;
    var managed = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)iterations;
    var rise = (Status("VmHWM") - rssBefore) / 1024.0;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ms:F3} {managed:F0} {Math.Max(0, rise):F1} {size}"));
    return 0;
}

// A field of /proc/self/status in KiB (VmRSS: resident now; VmHWM: the peak so far).
static long Status(string field) =>
    long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

// Pixels as the graphs take them: uint8 [H, W, 3], red-green-blue.
static byte[] Rgb(SKBitmap bitmap)
{
    var pixels = new byte[bitmap.Width * bitmap.Height * 3];
    var i = 0;
    for (var y = 0; y < bitmap.Height; y++)
        for (var x = 0; x < bitmap.Width; x++)
        {
            var c = bitmap.GetPixel(x, y);
            (pixels[i++], pixels[i++], pixels[i++]) = (c.Red, c.Green, c.Blue);
        }
    return pixels;
}

// A deterministic picture with what photographs and our outputs have: smooth gradients, edges and fine grain.
static SKBitmap Picture(int size)
{
    var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
    using (var canvas = new SKCanvas(bitmap))
    {
        using var sky = new SKPaint { Shader = SKShader.CreateLinearGradient(new(0, 0), new(0, size), [new SKColor(40, 90, 200), new SKColor(250, 200, 120)], SKShaderTileMode.Clamp) };
        canvas.DrawRect(0, 0, size, size, sky);
        using var sun = new SKPaint { Shader = SKShader.CreateRadialGradient(new(size * 0.7f, size * 0.35f), size * 0.2f, [SKColors.White, SKColors.Transparent], SKShaderTileMode.Clamp) };
        canvas.DrawCircle(size * 0.7f, size * 0.35f, size * 0.2f, sun);
        using var ground = new SKPaint { Color = new SKColor(60, 110, 50), IsAntialias = true };
        canvas.DrawOval(size * 0.3f, size * 1.05f, size * 0.7f, size * 0.4f, ground);
        canvas.DrawOval(size * 0.9f, size * 1.0f, size * 0.5f, size * 0.3f, ground);
    }
    // Fine grain, as a camera or a diffusion model leaves it: ±6 per channel.
    var random = new Random(20);
    var pixels = bitmap.Bytes;
    for (var i = 0; i < pixels.Length; i++)
        if (i % 4 != 3) pixels[i] = (byte)Math.Clamp(pixels[i] + random.Next(-6, 7), 0, 255);
    System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
    return bitmap;
}

/// <summary>A stream that only counts what is written: the destination of every encoder here, so none pays for storage.</summary>
internal sealed class CountingStream : Stream
{
    private long _length;
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => _length += count;
    public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
}
