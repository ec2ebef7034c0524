// Prompt classifier latency on this machine: every validation prompt scored in turn (features + ONNX Runtime), against
// the term-list moderator's normalisation step (TextNormalizer.Variants) as a baseline measured in the same run.
// Run from the repository root: dotnet run -c Release --project tools/moderation-classifier/bench [rounds]
using System.Diagnostics;
using BananaLab.Core.Moderation;
using BananaLab.Worker.Moderation;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

var rounds = args.Length > 0 ? int.Parse(args[0]) : 5;
var root = Directory.GetCurrentDirectory();
var prompts = File.ReadLines(Path.Combine(root, "tools", "moderation-classifier", "validation.tsv")).Skip(1)
    .Select(l => l.Split('\t')[3]).ToList();
var classifier = new OnnxPromptClassifier(Options.Create(new PromptClassifierOptions()), new Root(root));
if (!classifier.IsLoaded) throw new InvalidOperationException($"no model at {PromptClassifierOptions.DefaultPath} under {root}");
var features = new PromptFeatures(2, 5, 1 << 15);

Console.WriteLine($"{prompts.Count} prompts x {rounds} rounds, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Report("term-list normalisation (baseline)", p => TextNormalizer.Variants(p));
Report("classifier features only", p => features.Counts(p));
Report("classifier (features + ONNX Runtime)", p => classifier.Classify(p));
Report("term-list normalisation (baseline, again)", p => TextNormalizer.Variants(p));

void Report(string name, Action<string> run)
{
    foreach (var p in prompts.Take(200)) run(p); // warm-up
    var samples = new List<double>(prompts.Count * rounds);
    for (var r = 0; r < rounds; r++)
        foreach (var p in prompts)
        {
            var start = Stopwatch.GetTimestamp();
            run(p);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    samples.Sort();
    double At(double q) => samples[(int)Math.Min(samples.Count - 1, q * samples.Count)];
    Console.WriteLine($"{name,-42} p50 {At(0.50):F4} ms  p99 {At(0.99):F4} ms  mean {samples.Average():F4} ms");
}

sealed class Root(string path) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = Environments.Production;
    public string ApplicationName { get; set; } = "bench";
    public string ContentRootPath { get; set; } = path;
    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}
