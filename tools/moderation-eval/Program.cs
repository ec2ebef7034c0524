// Evaluates prompt moderation layer by layer over labelled sets: recall on what must be blocked, false positives on
// what must pass, per category and per language, and screening latency (p50/p99 per prompt). The layers, each measured
// on its own and then together as the product decides (the most severe wins):
//   term lists       the built-in lists alone (the moderator before issue 18)
//   + structure      with StructuralRules (ages, combinations, abuse-material phrases, dehumanisation, atrocities, self-harm)
//   + WordNet        with the WordNet expansion of the categories' concepts: the product's rule layer
//   classifier       the learned prompt classifier (models/moderation/prompt-classifier.onnx) on its own
//   all layers       the rule layer and the classifier together: what the product decides
// Sets: tools/moderation-eval/corpus.tsv (ours, tuned on), holdout.tsv (40 prompts written apart from the lists) and
// heldout-2026-11-30.tsv (324 prompts in ten languages by a helper who never saw the lists, the corpus or the classifier;
// frozen before tuning). Misses are listed for the corpus only: held-out sets are reported, never tuned on.
//   dotnet run -c Release --project tools/moderation-eval [-- --misses] [-- extra.tsv ...]
using BananaLab.Core.Moderation;
using BananaLab.Worker.Moderation;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

var showMisses = args.Contains("--misses");
var folder = AppContext.BaseDirectory;
var sets = new List<(string Name, string Path, bool HeldOut)>
{
    ("corpus", Path.Combine(folder, "corpus.tsv"), false),
    ("holdout (40)", Path.Combine(folder, "holdout.tsv"), true),
    ("held-out 2026-11-30 (324)", Path.Combine(folder, "heldout-2026-11-30.tsv"), true),
};
sets.AddRange(args.Where(a => !a.StartsWith("--")).Select(a => (Path.GetFileName(a), a, true)));

var builtIn = BuiltInTerms.Load();
var wordNet = BuiltInTerms.LoadWordNet();
var ruleLayer = new ModerationRuleSet([.. builtIn, .. wordNet]);
var classifier = new OnnxPromptClassifier(Options.Create(new PromptClassifierOptions()), new RepositoryRoot());
if (!classifier.IsLoaded) throw new InvalidOperationException($"No classifier at {PromptClassifierOptions.DefaultPath}; run tools/moderation-classifier/train.sh.");
IReadOnlyList<string> Classify(string prompt) => PromptModerator.ClassifierInput(prompt) is { } input ? classifier.Classify(input).Flagged : [];
var layers = new List<(string Name, Func<string, IReadOnlyList<string>> Screen)>
{
    ("term lists", Screen(new ModerationRuleSet(builtIn, structural: false))),
    ("+ structure", Screen(new ModerationRuleSet(builtIn))),
    ("+ WordNet (rule layer)", Screen(ruleLayer)),
    ("classifier", Classify),
    // As PromptModerator decides: the rules, and the classifier over a prompt of enough words; the most severe wins.
    ("all layers", prompt => ruleLayer.Screen(prompt).Categories.Union(Classify(prompt)).ToList()),
};

Console.WriteLine($"BananaLab moderation evaluation — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
Console.WriteLine($"{builtIn.Count} list terms in {builtIn.Select(e => e.RuleId.Split('/')[0]).Distinct().Count()} languages, {wordNet.Count} WordNet terms\n");
Console.WriteLine("| set | layer | prompts | recall | false positives | p50 | p99 |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
var reports = new Dictionary<(string, string), ModerationEvaluation.Report>();
foreach (var set in sets)
{
    var corpus = ModerationEvaluation.ReadCorpus(set.Path);
    foreach (var layer in layers)
    {
        ModerationEvaluation.Run(layer.Screen, corpus); // warm the regexes before timing
        var report = ModerationEvaluation.Run(layer.Screen, corpus);
        reports[(set.Name, layer.Name)] = report;
        var all = report.Overall;
        Console.WriteLine($"| {set.Name} | {layer.Name} | {corpus.Count} | {all.Recall:P1} ({all.TruePositives}/{all.TruePositives + all.FalseNegatives}) | " +
            $"{all.FalsePositiveRate:P1} ({all.FalsePositives}/{all.FalsePositives + all.TrueNegatives}) | {report.P50Microseconds / 1000:F3} ms | {report.P99Microseconds / 1000:F3} ms |");
    }
}

var product = layers[^1].Name;
foreach (var set in sets)
{
    var report = reports[(set.Name, product)];
    Console.WriteLine($"\n### {set.Name}, {product}: per category (recall on its must-block prompts; false positives: benign prompts blocked as it)\n");
    Console.WriteLine("| category | must block | recall | false positives |");
    Console.WriteLine("|---|---:|---:|---:|");
    foreach (var score in report.ByCategory)
        Console.WriteLine($"| {score.Category} | {score.TruePositives + score.FalseNegatives} | {score.Recall:P1} | {score.FalsePositives} |");
    Console.WriteLine($"\n### {set.Name}, {product}: per language\n");
    Console.WriteLine("| language | must block | recall | must pass | false positives |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    foreach (var score in report.ByLanguage)
        Console.WriteLine($"| {score.Category} | {score.TruePositives + score.FalseNegatives} | {score.Recall:P1} | {score.FalsePositives + score.TrueNegatives} | " +
            $"{score.FalsePositiveRate:P1} ({score.FalsePositives}) |");
    if (showMisses && !set.HeldOut)
        foreach (var miss in report.Outcomes.Where(o => o.Sample.MustBlock != o.Blocked))
            Console.WriteLine($"{(miss.Sample.MustBlock ? "MISSED" : "FALSE POSITIVE")} [{miss.Sample.Category}/{miss.Sample.Language}] {miss.Sample.Prompt}" +
                (miss.Blocked ? $" -> {string.Join(',', miss.Categories)}" : ""));
}

static Func<string, IReadOnlyList<string>> Screen(ModerationRuleSet rules) => prompt => rules.Screen(prompt).Categories;

/// <summary>The repository as the content root, so the classifier is found where the product finds it.</summary>
sealed class RepositoryRoot : IHostEnvironment
{
    public string EnvironmentName { get; set; } = "Production";
    public string ApplicationName { get; set; } = "moderation-eval";
    public string ContentRootPath { get; set; } = Find();
    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BananaLab.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run the evaluation from inside the repository.");
    }
}
