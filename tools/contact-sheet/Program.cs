// Renders a catalog model's contact sheet through the product's own ONNX pipeline, with the model's catalog defaults
// (appsettings.json: native size, steps, guidance): the 32 prompts of tools/train-nano/heldout/samples.tsv, written by
// a helper who never saw the training data (12 everyday names, 10 held-out words, 10 two-object compositions), one
// image each at seed 1234, in an 8×4 grid with the prompt and its kind under each image.
//   dotnet run -c Release --project tools/contact-sheet [-- --model banana-nano --out docs/banana-nano-samples.png]
using System.Diagnostics;
using System.Text.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Worker.Inference;
using SkiaSharp;

const int Cell = 256, Caption = 44, Columns = 8;

var root = Directory.GetCurrentDirectory();
while (!File.Exists(Path.Combine(root, "BananaLab.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run inside the repository.");
var modelId = Arg("--model") ?? "banana-nano";
var output = Arg("--out") ?? $"docs/{modelId}-samples.png";
var samples = File.ReadLines(Path.Combine(root, "tools", "train-nano", "heldout", "samples.tsv")).Skip(1)
    .Where(line => line.Length > 0).Select(line => line.Split('\t')).Select(cells => (Prompt: cells[0], Kind: cells[1])).ToList();

using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "appsettings.json")));
var entry = settings.RootElement.GetProperty("Models").GetProperty(modelId);
var model = new ModelDefinition
{
    Id = modelId, Provider = "onnx", Path = Path.Combine(root, entry.GetProperty("Path").GetString()!),
    NativeWidth = entry.GetProperty("NativeWidth").GetInt32(), NativeHeight = entry.GetProperty("NativeHeight").GetInt32(),
};
int steps = entry.GetProperty("DefaultSteps").GetInt32();
double guidance = entry.GetProperty("DefaultGuidance").GetDouble();
using var generator = new LocalGeneration(root, Path.Combine(root, "models", "upscaler", "x4", "model.onnx"));

var rows = (samples.Count + Columns - 1) / Columns;
using var sheet = new SKBitmap(Columns * Cell, rows * (Cell + Caption));
using var canvas = new SKCanvas(sheet);
canvas.Clear(SKColors.White);
// SkiaSharp's no-dependencies build cannot ask fontconfig, so load a font file (Debian's fonts-dejavu-core).
const string FontFile = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
using var typeface = File.Exists(FontFile) ? SKTypeface.FromFile(FontFile) : SKTypeface.Default;
using var font = new SKFont(typeface, 13);
using var small = new SKFont(typeface, 11);
using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
using var grey = new SKPaint { Color = SKColors.DimGray, IsAntialias = true };
var clock = Stopwatch.StartNew();
for (var i = 0; i < samples.Count; i++)
{
    var (prompt, kind) = samples[i];
    var image = new MemoryOutput();
    await generator.GenerateAsync(new GenerationRequest(Guid.NewGuid(), model, prompt, null, Cell, Cell, 1, Seed: 1234, Steps: steps,
        Guidance: guidance, OutputFormat.Png, null, 0), new NoProgress(), image, CancellationToken.None);
    using var tile = SKImage.FromEncodedData(image.Bytes);
    var (x, y) = (i % Columns * Cell, i / Columns * (Cell + Caption));
    canvas.DrawImage(tile, x, y, new SKSamplingOptions(SKFilterMode.Nearest), null);
    canvas.DrawText(prompt.Length > 34 ? prompt[..33] + "…" : prompt, x + 6, y + Cell + 18, SKTextAlign.Left, font, paint);
    canvas.DrawText(kind switch { "word" => "held-out words", "composition" => "composition", _ => "everyday name" },
        x + 6, y + Cell + 35, SKTextAlign.Left, small, grey);
    Console.WriteLine($"{i + 1}/{samples.Count} [{kind}] {prompt}");
}
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
using (var file = File.Create(output)) sheet.Encode(file, SKEncodedImageFormat.Png, 100);
Console.WriteLine($"wrote {output}: {modelId}, {steps} steps, guidance {guidance}, {samples.Count} images in {clock.Elapsed.TotalSeconds:F0} s");

string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

sealed class MemoryOutput : IImageOutput
{
    private readonly MemoryStream _stream = new();
    public byte[] Bytes => _stream.ToArray();
    public Stream Create(int index) => _stream;
}

sealed class NoProgress : IGenerationProgress
{
    public void Report(GenerationProgress progress) { }
}
