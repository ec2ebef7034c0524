using System.Diagnostics;

namespace BananaLab.Core.Moderation;

/// <summary>
/// Runs a labelled corpus (<c>label	category	lang	prompt</c>, label block or allow) through a screen (a rule set, one
/// layer, or every layer together) and reports recall on what must be blocked, false positives on what must pass, per
/// category and per language, and latency. Used by the corpus test (with thresholds) and by <c>tools/moderation-eval</c>
/// (which prints it).
/// </summary>
public static class ModerationEvaluation
{
    public sealed record Sample(bool MustBlock, string Category, string Language, string Prompt);

    public sealed record Outcome(Sample Sample, bool Blocked, IReadOnlyList<string> Categories, double Microseconds);

    public sealed record CategoryScore(string Category, int Samples, int TruePositives, int FalseNegatives, int FalsePositives, int TrueNegatives)
    {
        public double Recall => TruePositives + FalseNegatives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalseNegatives);
        public double Precision => TruePositives + FalsePositives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalsePositives);
        public double FalsePositiveRate => FalsePositives + TrueNegatives == 0 ? double.NaN : (double)FalsePositives / (FalsePositives + TrueNegatives);
    }

    public sealed record Report(IReadOnlyList<Outcome> Outcomes, IReadOnlyList<CategoryScore> ByCategory, CategoryScore Overall,
        double P50Microseconds, double P99Microseconds)
    {
        /// <summary>Per language: its must-block prompts' recall and its must-pass prompts' false positives.</summary>
        public IReadOnlyList<CategoryScore> ByLanguage => Outcomes.GroupBy(o => o.Sample.Language).OrderBy(g => g.Key).Select(g =>
        {
            var block = g.Where(o => o.Sample.MustBlock).ToList();
            var pass = g.Where(o => !o.Sample.MustBlock).ToList();
            return new CategoryScore(g.Key, g.Count(), block.Count(o => o.Blocked), block.Count(o => !o.Blocked), pass.Count(o => o.Blocked),
                pass.Count(o => !o.Blocked));
        }).ToList();
    }

    public static IReadOnlyList<Sample> ReadCorpus(string path) =>
        File.ReadLines(path).Skip(1).Where(l => l.Trim().Length > 0 && !l.StartsWith('#')).Select((line, i) =>
        {
            var parts = line.Split('\t');
            if (parts.Length != 4 || parts[0] is not ("block" or "allow"))
                throw new FormatException($"{path}:{i + 2}: expected 'block|allow<TAB>category<TAB>lang<TAB>prompt'.");
            return new Sample(parts[0] == "block", parts[1], parts[2], parts[3]);
        }).ToList();

    public static Report Run(ModerationRuleSet rules, IReadOnlyList<Sample> corpus) => Run(prompt => rules.Screen(prompt).Categories, corpus);

    /// <summary>Runs <paramref name="screen"/> (a prompt in, the categories that block it out; none when it passes) over <paramref name="corpus"/>.</summary>
    public static Report Run(Func<string, IReadOnlyList<string>> screen, IReadOnlyList<Sample> corpus)
    {
        foreach (var sample in corpus.Take(20)) screen(sample.Prompt); // warm-up
        var outcomes = corpus.Select(sample =>
        {
            var started = Stopwatch.GetTimestamp();
            var categories = screen(sample.Prompt);
            return new Outcome(sample, categories.Count > 0, categories, Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }).ToList();

        // Per category: its must-block samples against every must-pass sample (a false positive is any block of a benign prompt).
        var benign = outcomes.Where(o => !o.Sample.MustBlock).ToList();
        var falsePositives = benign.Count(o => o.Blocked);
        var byCategory = outcomes.Where(o => o.Sample.MustBlock).GroupBy(o => o.Sample.Category).OrderBy(g => g.Key)
            .Select(g => new CategoryScore(g.Key, g.Count(), g.Count(o => o.Blocked), g.Count(o => !o.Blocked),
                benign.Count(o => o.Blocked && o.Categories.Contains(g.Key)), benign.Count - benign.Count(o => o.Blocked && o.Categories.Contains(g.Key))))
            .ToList();
        var blockers = outcomes.Where(o => o.Sample.MustBlock).ToList();
        var overall = new CategoryScore("all", outcomes.Count, blockers.Count(o => o.Blocked), blockers.Count(o => !o.Blocked),
            falsePositives, benign.Count - falsePositives);
        var latencies = outcomes.Select(o => o.Microseconds).Order().ToArray();
        return new Report(outcomes, byCategory, overall, Percentile(latencies, 0.5), Percentile(latencies, 0.99));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
