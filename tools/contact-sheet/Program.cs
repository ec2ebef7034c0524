// Renders banana-nano's contact sheet through the product's own ONNX pipeline: 32 prompts (24 emoji
// captions, 8 that are not emoji names), one image each at a fixed seed, in an 8×4 grid with captions.
//   dotnet run -c Release --project tools/contact-sheet [-- docs/banana-nano-samples.png]
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Worker.Inference;
using SkiaSharp;

string[] prompts =
[
    // Training captions (emoji names, some with the background augmentation).
    "red apple", "grinning face", "banana", "sun", "snowman", "blue heart", "pile of poo", "rocket",
    "cat face", "dog face", "christmas tree", "fire", "pizza", "hot beverage", "green apple", "ghost",
    "red apple on a blue background", "banana on a black background", "sun on a purple background", "rocket on a yellow background",
    "tomato", "watermelon", "globe showing americas", "crown",
    // Not emoji names: how far the text encoder generalises.
    "a red ball", "yellow fruit", "a smiling yellow face", "a blue bird", "something hot to drink",
    "a green tree", "an orange on a green background", "a purple flower",
];
const int Cell = 192, Caption = 34, Columns = 8;

var output = args.Length > 0 ? args[0] : "docs/banana-nano-samples.png";
var root = Directory.GetCurrentDirectory();
while (!File.Exists(Path.Combine(root, "BananaLab.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run inside the repository.");
using var generator = new LocalGeneration(root, Path.Combine(root, "models", "upscaler", "x4", "model.onnx"));
var model = new ModelDefinition { Id = "banana-nano", Provider = "onnx", Path = Path.Combine(root, "models", "banana-nano"), NativeWidth = 64, NativeHeight = 64 };

var rows = (prompts.Length + Columns - 1) / Columns;
using var sheet = new SKBitmap(Columns * Cell, rows * (Cell + Caption));
using var canvas = new SKCanvas(sheet);
canvas.Clear(SKColors.White);
// SkiaSharp's no-dependencies build cannot ask fontconfig, so load a font file (Debian's fonts-dejavu-core).
const string FontFile = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
using var typeface = File.Exists(FontFile) ? SKTypeface.FromFile(FontFile) : SKTypeface.Default;
using var font = new SKFont(typeface, 13);
using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
for (var i = 0; i < prompts.Length; i++)
{
    var image = new MemoryOutput();
    await generator.GenerateAsync(new GenerationRequest(Guid.NewGuid(), model, prompts[i], null, Cell, Cell, 1, Seed: 1234, Steps: 20,
        Guidance: 3.0, OutputFormat.Png, null, 0), new NoProgress(), image, CancellationToken.None);
    using var tile = SKImage.FromEncodedData(image.Bytes);
    var (x, y) = (i % Columns * Cell, i / Columns * (Cell + Caption));
    canvas.DrawImage(tile, x, y, new SKSamplingOptions(SKFilterMode.Nearest), null);
    canvas.DrawText(prompts[i].Length > 25 ? prompts[i][..24] + "…" : prompts[i], x + 6, y + Cell + 20, SKTextAlign.Left, font, paint);
    Console.WriteLine($"{i + 1}/{prompts.Length} {prompts[i]}");
}
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
using (var file = File.Create(output)) sheet.Encode(file, SKEncodedImageFormat.Png, 100);
Console.WriteLine($"wrote {output}");

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
