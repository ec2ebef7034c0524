using System.Diagnostics;
using System.Globalization;
using BananaLab.Core.Generation;
using BananaLab.Worker.Inference;
using BananaLab.Worker.Inference.Imaging;
using SkiaSharp;

/// <summary>
/// Where a tier's time goes: the native image (denoise + decode), then each stage of the finishing step timed on its
/// own (cover crop, each x4 super-resolution pass the model could make, the upscaler's own path to the exact size, PNG
/// encode). Medians of warm runs, milliseconds. With <c>--save DIR</c> the upscaled images are written there, and a
/// 512×512 crop from the centre of the 4K one at 100 %.
/// </summary>
static class StageProfile
{
    public static async Task RunAsync(LocalGeneration generator, Func<(int Width, int Height), GenerationRequest> request,
        IEnumerable<(string Label, int Width, int Height)> sizes, int runs, string? saveDir)
    {
        foreach (var (label, width, height) in sizes)
        {
            var stages = new Dictionary<string, List<double>>();
            void Add(string stage, double ms) => (stages.TryGetValue(stage, out var list) ? list : stages[stage] = []).Add(ms);
            for (var run = 0; run <= runs; run++) // run 0 warms up and is not counted
            {
                var capture = new CapturingOutput();
                var clock = Stopwatch.StartNew();
                await generator.Generator.GenerateAsync(request((width, height)), new NullProgress(), capture, CancellationToken.None);
                var nativeMs = clock.Elapsed.TotalMilliseconds;
                using var native = ImageFraming.FromRgba(capture.Image!.Width, capture.Image.Height, capture.Image.Rgba);

                clock.Restart();
                using var framed = ImageFraming.Crop(native, ImageFraming.CoverRect(native.Width, native.Height, width, height));
                var cropMs = clock.Elapsed.TotalMilliseconds;

                // Every x4 pass the model could make up to the target's size, one at a time.
                var passes = new List<(string Name, double Ms)>();
                var current = framed.Copy();
                while (Math.Max((double)width / current.Width, (double)height / current.Height) > 1)
                {
                    clock.Restart();
                    var larger = generator.Upscaler.UpscaleTo(current, current.Width * 4, current.Height * 4, CancellationToken.None);
                    passes.Add(($"x4 pass {current.Width}x{current.Height} -> {larger.Width}x{larger.Height}", clock.Elapsed.TotalMilliseconds));
                    current.Dispose();
                    current = larger;
                }
                current.Dispose();

                clock.Restart();
                using var upscaled = generator.Upscaler.UpscaleTo(framed, width, height, CancellationToken.None);
                var upscaleMs = clock.Elapsed.TotalMilliseconds;

                clock.Restart();
                ImageEncoding.Encode(upscaled, BananaLab.Core.Tasks.OutputFormat.Png, Stream.Null);
                var encodeMs = clock.Elapsed.TotalMilliseconds;

                if (run == 0)
                {
                    if (saveDir is not null) Save(saveDir, label, upscaled);
                    continue;
                }
                Add("native image (denoise + decode)", nativeMs);
                Add("cover crop", cropMs);
                foreach (var (name, ms) in passes) Add($"({name}, alone)", ms);
                Add("upscale to the exact size (the product's path)", upscaleMs);
                Add("PNG encode", encodeMs);
                Add("total (native + crop + upscale + encode)", nativeMs + cropMs + upscaleMs + encodeMs);
            }
            Console.WriteLine($"## {label}");
            Console.WriteLine("| stage | median ms |");
            Console.WriteLine("|---|---:|");
            foreach (var (stage, values) in stages)
                Console.WriteLine($"| {stage} | {Median(values).ToString("F1", CultureInfo.InvariantCulture)} |");
            Console.WriteLine();
        }
    }

    private static void Save(string folder, string label, SKBitmap image)
    {
        Directory.CreateDirectory(folder);
        using (var file = File.Create(Path.Combine(folder, $"upscaled-{label}.png"))) ImageEncoding.Encode(image, BananaLab.Core.Tasks.OutputFormat.Png, file);
        if (Math.Max(image.Width, image.Height) < 4096) return;
        var rect = SKRectI.Create(image.Width / 2 - 256, image.Height / 2 - 256, 512, 512);
        using var crop = ImageFraming.Crop(image, rect);
        using var cropFile = File.Create(Path.Combine(folder, $"crop-{label}-centre-512.png"));
        ImageEncoding.Encode(crop, BananaLab.Core.Tasks.OutputFormat.Png, cropFile);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed class NullProgress : IGenerationProgress
    {
        public void Report(GenerationProgress progress) { }
    }

    /// <summary>Keeps the provider's image as it made it, before any finishing.</summary>
    private sealed class CapturingOutput : IGenerationOutput
    {
        public ProducedImage.Pixels? Image { get; private set; }

        public Stream Create(int index) => Stream.Null;

        public GeneratedImage Finish(int index, Func<ProducedImage> produce, CancellationToken cancellationToken)
        {
            Image = (ProducedImage.Pixels)produce();
            return new GeneratedImage(index, Image.Width, Image.Height);
        }
    }
}
