// Fits banana-nano's latent-to-RGB preview map against its own VAE and writes it beside the model
// (models/banana-nano/preview/latent_rgb.json), then measures old and new previews against results.
//   dotnet run -c Release --project tools/preview-fit [-- --model models/banana-nano] [--sheet docs/preview-vs-final.png]
// Latents: the product pipeline generates each prompt at a fixed seed (20 steps, guidance 3, native
// size), the VAE encoder maps the image back to a sampler-scale latent (its mean × scaling factor),
// and the VAE decoder decodes that latent; the decoded RGB, area-averaged to latent resolution, is
// the target of an ordinary least-squares fit rgb = A·latent + b (4 channels + bias per colour).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BananaLab.Bench;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Worker.Inference;
using BananaLab.Worker.Inference.Imaging;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.StableDiffusion;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;

string[] fitPrompts =
[
    "banana", "red apple", "green apple", "grinning face", "sun", "snowman", "blue heart", "pile of poo",
    "rocket", "cat face", "dog face", "christmas tree", "fire", "pizza", "hot beverage", "ghost",
    "tomato", "watermelon", "crown", "purple heart", "frog", "tangerine", "cherries", "eggplant",
    "red apple on a blue background", "banana on a black background", "sun on a purple background", "rocket on a yellow background",
    "ghost on a green background", "fire on a white background", "blue heart on a red background", "frog on an orange background",
];
// Held out from the fit: the error figures, the pipeline comparison and the test's prompts come from these.
string[] holdoutPrompts =
[
    "grapes", "lemon", "snowflake", "yellow heart", "pig face", "green heart on a yellow background",
    "strawberry on a blue background", "a red ball",
];
int[] fitSeeds = [1, 2, 3];
int[] holdoutSeeds = [1234];

var root = BenchSupport.RepositoryRoot();
var modelFolder = Path.GetFullPath(Path.Combine(root, ArgValue("--model") ?? Path.Combine("models", "banana-nano")));
var outputPath = Path.Combine(modelFolder, LatentRgbMap.RelativePath);
var options = Options.Create(new InferenceOptions { ExecutionProvider = InferenceExecutionProvider.Cpu });
var sessions = new OnnxSessionFactory(options);
var upscalerPath = Path.Combine(root, "models", "upscaler", "x4", "model.onnx");
using var vae = new StableDiffusionModel(modelFolder, Path.GetRelativePath(root, modelFolder), sessions);
int factor = vae.DownsampleFactor, channels = vae.LatentChannels, native = (vae.UnetSampleSize ?? 8) * factor; // the model's native size (banana-nano 2: 16 × 8 = 128)
int latentSize = native / factor;
float[] costLatent;

// 1. Samples: sampler-scale latents and their decoded colour at latent resolution.
using (var generator = NewGenerator())
{
    var fit = await Samples(generator, fitPrompts, fitSeeds);
    var holdout = await Samples(generator, holdoutPrompts, holdoutSeeds);
    costLatent = holdout[0].Latent;

    // 2. Least squares per colour on [latent, 1] (normal equations in double; 5×5 for banana-nano).
    var map = Fit(fit);
    var (fitRmse, fitMad) = Errors(map, fit);
    var (_, holdoutMad) = Errors(map, holdout);
    var floor = holdout.Select(s => NativeMad(s.Decoded, SmoothUpsample(s.Decoded))).Average();
    var mapped = holdout.Select(s => NativeMad(s.Decoded, LatentPreview.RenderMapped(s.Latent, latentSize, latentSize, map, native, native))).Average();
    var neighbourhood = NeighbourhoodDecoderMad(fit, holdout);
    map = map with
    {
        Source = new LatentRgbFitSource("dotnet run -c Release --project tools/preview-fit",
            DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), fit.Count, fit.Count * latentSize * latentSize,
            holdout.Count, Math.Round(fitRmse, 5), Math.Round(fitMad, 3), Math.Round(holdoutMad, 3),
            $"{fitPrompts.Length} prompts x seeds {string.Join(",", fitSeeds)} through the product pipeline (20 steps, guidance 3, " +
            $"{native}x{native}); each image VAE-encoded (mean x scaling factor), decoded by vae_decoder, area-averaged {factor}x{factor} " +
            $"to latent resolution; ordinary least squares rgb[0,1] = matrix . latent plus bias. Held out: {holdoutPrompts.Length} other prompts x seed " +
            $"{string.Join(",", holdoutSeeds)}."),
    };
    Directory.CreateDirectory(Path.GetDirectoryName(outputPath)!);
    File.WriteAllText(outputPath, JsonSerializer.Serialize(map, LatentRgbMap.Json) + "\n");
    Console.WriteLine($"wrote {Path.GetRelativePath(root, outputPath)}");
    Console.WriteLine($"fit: {fit.Count} latents ({fit.Count * latentSize * latentSize} latent pixels); RMSE {fitRmse:F4} (RGB 0-1), " +
        $"MAD {fitMad:F2}/255 at {latentSize}x{latentSize}; held out ({holdout.Count} latents) MAD {holdoutMad:F2}/255");
    Console.WriteLine($"held out at {native}x{native} vs the VAE decode: mapped preview MAD {mapped:F2}/255; " +
        $"floor of any {latentSize}x{latentSize} preview (decode area-averaged, upsampled the same way) {floor:F2}/255; " +
        $"tiny linear decoder (3x3 latent neighbourhood -> {factor}x{factor} pixel block, {(9 * channels + 1) * 3 * factor * factor} coefficients) {neighbourhood:F2}/255");
}

// 3. What users see: the last preview of a real run against its result, with the new map and without it.
var withoutMap = WithoutPreviewMap(modelFolder);
try
{
    using var generator = NewGenerator();
    Console.WriteLine($"\nlast preview vs final image (native {native}x{native}, 20 steps, guidance 3), MAD 0-255 per channel:");
    Console.WriteLine("| prompt | seed | old mosaic | fitted map |\n|---|---:|---:|---:|");
    var (oldAll, newAll) = (new List<double>(), new List<double>());
    var rows = new List<byte[][]>();
    foreach (var prompt in holdoutPrompts)
        foreach (var seed in holdoutSeeds)
        {
            var (finalNew, previewNew) = await LastPreview(generator, modelFolder, prompt, seed);
            var (finalOld, previewOld) = await LastPreview(generator, withoutMap, prompt, seed);
            if (!finalNew.SequenceEqual(finalOld)) throw new InvalidOperationException("The map changed the result, not only the preview.");
            double o = PreviewMad(previewOld, finalOld), n = PreviewMad(previewNew, finalNew);
            (oldAll, newAll) = ([.. oldAll, o], [.. newAll, n]);
            rows.Add([previewOld, previewNew, finalNew]);
            Console.WriteLine($"| {prompt} | {seed} | {o:F1} | {n:F1} |");
        }
    Console.WriteLine($"| mean (min-max) | | {oldAll.Average():F1} ({oldAll.Min():F1}-{oldAll.Max():F1}) | {newAll.Average():F1} ({newAll.Min():F1}-{newAll.Max():F1}) |");

    if (ArgValue("--sheet") is { } sheetPath)
    {
        WriteSheet(sheetPath, rows);
        Console.WriteLine($"wrote {sheetPath} (columns: old mosaic, fitted map, final)");
    }

    // 4. Cost per preview (render + PNG encode) of a real latent, one warm thread, median of 2000.
    var mapForCost = JsonSerializer.Deserialize<LatentRgbMap>(File.ReadAllText(outputPath))!;
    var mosaicMs = Median(() => LatentPreview.Render(costLatent, channels, latentSize, latentSize, null, factor));
    var mappedMs = Median(() => LatentPreview.Render(costLatent, channels, latentSize, latentSize, mapForCost, factor));
    Console.WriteLine($"\nper preview (median of 2000): old mosaic {latentSize}x{latentSize} {mosaicMs:F3} ms; fitted map at {native}x{native} {mappedMs:F3} ms");
}
finally
{
    Directory.Delete(withoutMap, true);
}

string? ArgValue(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

// A fresh model cache each time: the map is read when the model folder is first loaded.
LocalGeneration NewGenerator() => new(root, upscalerPath, options.Value);

GenerationRequest Request(string folder, string prompt, long seed) =>
    new(Guid.NewGuid(), new ModelDefinition { Id = "banana-nano", Provider = "onnx", Path = folder, NativeWidth = native, NativeHeight = native },
        prompt, null, native, native, 1, seed, Steps: 20, Guidance: 3.0, OutputFormat.Png, null, 0);

async Task<List<Sample>> Samples(LocalGeneration generator, string[] prompts, int[] seeds)
{
    var samples = new List<Sample>();
    foreach (var prompt in prompts)
        foreach (var seed in seeds)
        {
            var output = new MemoryOutput();
            await generator.GenerateAsync(Request(modelFolder, prompt, seed), new LastProgress(), output, CancellationToken.None);
            using var image = SKBitmap.Decode(output.Bytes);
            var latent = Encode(image);
            samples.Add(new Sample(latent, Decode(latent)));
        }
    Console.WriteLine($"{samples.Count} samples from {prompts.Length} prompts");
    return samples;
}

// The VAE encoder's mean × scaling factor: the latent the sampler would hold for this image.
float[] Encode(SKBitmap image)
{
    var encoder = vae.VaeEncoder;
    var imageIn = encoder.Input(0, "sample");
    using var input = new TensorBuffer(imageIn.ElementType, 1, 3, native, native);
    ImageFraming.ToSignedTensor(image, input.Data);
    input.Upload();
    var latentOut = encoder.Output(0, "latent_sample", "latent_parameters", "latent_dist");
    using var runOptions = new RunOptions();
    using var results = encoder.Session.Run(runOptions, [imageIn.Name], [input.Value], [latentOut.Name]);
    var values = Floats(results[0]);
    var latent = new float[channels * latentSize * latentSize];
    for (var k = 0; k < latent.Length; k++) latent[k] = (float)(values[k] * vae.ScalingFactor);
    return latent;
}

// vae_decoder output in [0, 1], [3, native, native].
float[] Decode(float[] latent)
{
    var decoder = vae.VaeDecoder;
    var latentIn = decoder.Input(0, "latent_sample");
    var imageOut = decoder.Output(0, "sample");
    using var input = new TensorBuffer(latentIn.ElementType, 1, channels, latentSize, latentSize);
    using var image = new TensorBuffer(imageOut.ElementType, 1, 3, native, native);
    for (var k = 0; k < latent.Length; k++) input.Data[k] = (float)(latent[k] / vae.ScalingFactor);
    input.Upload();
    using var runOptions = new RunOptions();
    decoder.Run(runOptions, [latentIn.Name], [input.Value], [imageOut.Name], [image.Value]);
    image.Download();
    return image.Data.Select(v => Math.Clamp((v + 1) * 0.5f, 0f, 1f)).ToArray();
}

// Mean of each factor×factor block of the decoded image: the colour one latent pixel stands for.
float AreaAverage(float[] decoded, int colour, int pixel)
{
    var (y0, x0) = (pixel / latentSize * factor, pixel % latentSize * factor);
    float sum = 0;
    for (var y = y0; y < y0 + factor; y++)
        for (var x = x0; x < x0 + factor; x++) sum += decoded[colour * native * native + y * native + x];
    return sum / (factor * factor);
}

LatentRgbMap Fit(List<Sample> samples)
{
    var n = channels + 1;
    var matrix = new float[3][];
    var bias = new float[3];
    for (var colour = 0; colour < 3; colour++)
    {
        var normal = new double[n, n];
        var right = new double[n];
        var features = new double[n];
        foreach (var s in samples)
            for (var p = 0; p < latentSize * latentSize; p++)
            {
                for (var k = 0; k < channels; k++) features[k] = s.Latent[k * latentSize * latentSize + p];
                features[channels] = 1;
                var target = AreaAverage(s.Decoded, colour, p);
                for (var i = 0; i < n; i++)
                {
                    right[i] += features[i] * target;
                    for (var j = 0; j < n; j++) normal[i, j] += features[i] * features[j];
                }
            }
        var solution = Solve(normal, right);
        matrix[colour] = solution.Take(channels).Select(v => (float)v).ToArray();
        bias[colour] = (float)solution[channels];
    }
    return new LatentRgbMap(matrix, bias);
}

// The alternative to the per-pixel map: each 3×3 latent neighbourhood (edge-clamped) to the factor×factor
// block of decoded pixels under its centre, by least squares on the fit set; held-out MAD at native size.
double NeighbourhoodDecoderMad(List<Sample> fitSet, List<Sample> holdoutSet)
{
    var n = 9 * channels + 1;
    var outputs = 3 * factor * factor;
    var normal = new double[n, n];
    var right = new double[outputs, n];
    foreach (var s in fitSet)
        for (var p = 0; p < latentSize * latentSize; p++)
        {
            var f = NeighbourhoodFeatures(s.Latent, p);
            var block = Block(s.Decoded, p);
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j < n; j++) normal[i, j] += f[i] * f[j];
                for (var o = 0; o < outputs; o++) right[o, i] += f[i] * block[o];
            }
        }
    var weights = Enumerable.Range(0, outputs)
        .Select(o => Solve((double[,])normal.Clone(), Enumerable.Range(0, n).Select(i => right[o, i]).ToArray())).ToArray();
    double sum = 0;
    long count = 0;
    foreach (var s in holdoutSet)
        for (var p = 0; p < latentSize * latentSize; p++)
        {
            var f = NeighbourhoodFeatures(s.Latent, p);
            var block = Block(s.Decoded, p);
            for (var o = 0; o < outputs; o++)
            {
                var predicted = 0.0;
                for (var i = 0; i < n; i++) predicted += weights[o][i] * f[i];
                sum += Math.Abs(ImageFraming.ToByte((float)predicted) - ImageFraming.ToByte(block[o]));
                count++;
            }
        }
    return sum / count;
}

double[] NeighbourhoodFeatures(float[] latent, int pixel)
{
    var features = new double[9 * channels + 1];
    var (y, x) = (pixel / latentSize, pixel % latentSize);
    var index = 0;
    for (var dy = -1; dy <= 1; dy++)
        for (var dx = -1; dx <= 1; dx++)
        {
            var (ny, nx) = (Math.Clamp(y + dy, 0, latentSize - 1), Math.Clamp(x + dx, 0, latentSize - 1));
            for (var k = 0; k < channels; k++) features[index++] = latent[k * latentSize * latentSize + ny * latentSize + nx];
        }
    features[index] = 1;
    return features;
}

float[] Block(float[] decoded, int pixel)
{
    var (y0, x0) = (pixel / latentSize * factor, pixel % latentSize * factor);
    var block = new float[3 * factor * factor];
    var index = 0;
    for (var c = 0; c < 3; c++)
        for (var y = y0; y < y0 + factor; y++)
            for (var x = x0; x < x0 + factor; x++) block[index++] = decoded[c * native * native + y * native + x];
    return block;
}

// Gaussian elimination with partial pivoting.
static double[] Solve(double[,] a, double[] b)
{
    var n = b.Length;
    for (var col = 0; col < n; col++)
    {
        var pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(a[r, col]));
        for (var j = 0; j < n; j++) (a[col, j], a[pivot, j]) = (a[pivot, j], a[col, j]);
        (b[col], b[pivot]) = (b[pivot], b[col]);
        for (var r = col + 1; r < n; r++)
        {
            var f = a[r, col] / a[col, col];
            for (var j = col; j < n; j++) a[r, j] -= f * a[col, j];
            b[r] -= f * b[col];
        }
    }
    var x = new double[n];
    for (var r = n - 1; r >= 0; r--)
    {
        var sum = b[r];
        for (var j = r + 1; j < n; j++) sum -= a[r, j] * x[j];
        x[r] = sum / a[r, r];
    }
    return x;
}

// RMSE (0-1) and MAD (0-255, clamped like the preview) of the map at latent resolution.
(double Rmse, double Mad255) Errors(LatentRgbMap map, List<Sample> samples)
{
    double squares = 0, absolute = 0;
    long count = 0;
    foreach (var s in samples)
        for (var p = 0; p < latentSize * latentSize; p++)
            for (var colour = 0; colour < 3; colour++)
            {
                double predicted = map.Bias[colour];
                for (var k = 0; k < channels; k++) predicted += map.Matrix[colour][k] * s.Latent[k * latentSize * latentSize + p];
                var error = predicted - AreaAverage(s.Decoded, colour, p);
                squares += error * error;
                absolute += Math.Abs(Math.Clamp(predicted, 0, 1) - AreaAverage(s.Decoded, colour, p));
                count++;
            }
    return (Math.Sqrt(squares / count), absolute / count * 255);
}

// The decoded image area-averaged to latent size, then resampled back exactly as the preview is
// (an identity map over the three averaged colour planes).
byte[] SmoothUpsample(float[] decoded)
{
    var plane = latentSize * latentSize;
    var averaged = new float[3 * plane];
    for (var c = 0; c < 3; c++)
        for (var p = 0; p < plane; p++) averaged[c * plane + p] = AreaAverage(decoded, c, p);
    var identity = new LatentRgbMap([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0]);
    return LatentPreview.RenderMapped(averaged, latentSize, latentSize, identity, native, native);
}

double NativeMad(float[] decoded, byte[] png)
{
    using var decodedPng = SKBitmap.Decode(png);
    using var bitmap = decodedPng.Copy(SKColorType.Rgba8888);
    var pixels = bitmap.GetPixelSpan();
    double sum = 0;
    for (var p = 0; p < native * native; p++)
        for (var c = 0; c < 3; c++) sum += Math.Abs(pixels[p * 4 + c] - ImageFraming.ToByte(decoded[c * native * native + p]));
    return sum / (native * native * 3);
}

async Task<(byte[] Final, byte[] Preview)> LastPreview(LocalGeneration generator, string folder, string prompt, long seed)
{
    var output = new MemoryOutput();
    var progress = new LastProgress();
    await generator.GenerateAsync(Request(folder, prompt, seed), progress, output, CancellationToken.None);
    return (output.Bytes, progress.Last?.PreviewPng ?? throw new InvalidOperationException("No preview was reported."));
}

// Both decoded to the final's size (the old mosaic is latent-sized: nearest-neighbour, as a browser shows it pixelated).
static double PreviewMad(byte[] previewPng, byte[] finalPng)
{
    using var final = SKBitmap.Decode(finalPng).Copy(SKColorType.Rgba8888);
    using var decoded = SKBitmap.Decode(previewPng);
    using var preview = new SKBitmap(ImageFraming.RgbaInfo(final.Width, final.Height));
    decoded.ScalePixels(preview, new SKSamplingOptions(SKFilterMode.Nearest));
    ReadOnlySpan<byte> a = final.GetPixelSpan(), b = preview.GetPixelSpan();
    double sum = 0;
    for (var i = 0; i < a.Length; i++) if (i % 4 != 3) sum += Math.Abs(a[i] - b[i]);
    return sum / (final.Width * final.Height * 3);
}

// One row per run, cells enlarged by nearest neighbour so the preview's own pixels show.
static void WriteSheet(string path, List<byte[][]> rows)
{
    const int Cell = 128, Gap = 4;
    using var sheet = new SKBitmap(3 * (Cell + Gap) + Gap, rows.Count * (Cell + Gap) + Gap);
    using var canvas = new SKCanvas(sheet);
    canvas.Clear(SKColors.White);
    for (var r = 0; r < rows.Count; r++)
        for (var c = 0; c < 3; c++)
        {
            using var image = SKImage.FromEncodedData(rows[r][c]);
            var (x, y) = (Gap + c * (Cell + Gap), Gap + r * (Cell + Gap));
            canvas.DrawImage(image, new SKRect(x, y, x + Cell, y + Cell), new SKSamplingOptions(SKFilterMode.Nearest));
        }
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    using var file = File.Create(path);
    sheet.Encode(file, SKEncodedImageFormat.Png, 100);
}

// A model folder like the given one but without preview/: links to its parts, so the old mosaic runs.
static string WithoutPreviewMap(string folder)
{
    var copy = Path.Combine(Path.GetTempPath(), "preview-fit-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(copy);
    foreach (var entry in Directory.EnumerateFileSystemEntries(folder))
        if (Path.GetFileName(entry) != "preview")
            if (Directory.Exists(entry)) Directory.CreateSymbolicLink(Path.Combine(copy, Path.GetFileName(entry)), entry);
            else File.CreateSymbolicLink(Path.Combine(copy, Path.GetFileName(entry)), entry);
    return copy;
}

static double Median(Func<byte[]> render)
{
    for (var i = 0; i < 200; i++) render();
    var times = new List<double>();
    for (var i = 0; i < 2000; i++)
    {
        var start = Stopwatch.GetTimestamp();
        render();
        times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
    times.Sort();
    return BenchSupport.Percentile(times, 0.5);
}

static float[] Floats(OrtValue value) =>
    value.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float16
        ? value.GetTensorDataAsSpan<Float16>().ToArray().Select(h => (float)(Half)BitConverter.UInt16BitsToHalf(h.value)).ToArray()
        : value.GetTensorDataAsSpan<float>().ToArray();

/// <summary>One fitting sample: a sampler-scale latent [C, 16, 16] and its VAE decode [3, native, native] in [0, 1].</summary>
sealed record Sample(float[] Latent, float[] Decoded);

sealed class MemoryOutput : IImageOutput
{
    private readonly MemoryStream _stream = new();
    public byte[] Bytes => _stream.ToArray();
    public Stream Create(int index) => _stream;
}

/// <summary>Keeps the last report that carries a preview (the finishing phases that follow carry none).</summary>
sealed class LastProgress : IGenerationProgress
{
    public GenerationProgress? Last { get; private set; }
    public void Report(GenerationProgress progress) { if (progress.PreviewPng is not null) Last = progress; }
}
